/// The type a command parameter accepts.
public enum ParamType: Sendable, Equatable, CustomStringConvertible {
  /// `number` is finite; `real` also takes ±inf and NaN (math functions); `integer` is a whole
  /// number of at most 2^53 in magnitude, so it converts to `Int` exactly.
  case any, number, real, integer, string, bool, list, record
  /// A workbench handle of the given type name (`model`, `clip`, …).
  case handle(String)
  /// A string naming one of a vocabulary's words (an enum's raw values: crops, tasks, losses, …).
  case choice([String])

  /// How help prints it.
  public var description: String {
    switch self {
    case .any: return "any"
    case .number: return "number"
    case .real: return "number"
    case .integer: return "integer"
    case .string: return "string"
    case .bool: return "bool"
    case .list: return "list"
    case .record: return "record"
    case .handle(let t): return t
    case .choice(let words): return words.map { "\"\($0)\"" }.joined(separator: "|")
    }
  }

  func accepts(_ v: Value) -> Bool {
    switch (self, v) {
    case (.any, _): return true
    case (.real, .number): return true
    case (.number, .number(let n)): return n.isFinite
    case (.integer, .number(let n)): return n == n.rounded() && abs(n) <= Param.maxInteger
    case (.string, .string), (.bool, .bool), (.record, .record): return true
    case (.list, .list), (.list, .range): return true
    case (.handle(let t), .handle(let h)): return h.typeName == t
    case (.choice(let words), .string(let s)): return words.contains(s)
    default: return false
    }
  }
}

/// One parameter of a command: positional (in order) or an option (`name: value`); help and
/// argument checking both come from this declaration.
public struct Param: Sendable {
  /// Its name (positional parameters can be given by name too).
  public let name: String
  /// The accepted type.
  public let type: ParamType
  /// The default, or nil when required.
  public let defaultValue: Value?
  /// One line of help.
  public let help: String
  /// Positional (true) or option-only (false).
  public let positional: Bool
  /// Takes every remaining positional argument as a list.
  public let variadic: Bool
  /// The allowed values of a number or integer (checked when the call binds), or nil for any.
  public private(set) var range: ClosedRange<Double>? = nil

  /// The largest integer magnitude the language converts exactly (2^53).
  public static let maxInteger = 9_007_199_254_740_992.0

  /// The same parameter, accepting only values in `r` (a located error names the range otherwise).
  public func within(_ r: ClosedRange<Double>) -> Param {
    var p = self
    p.range = r
    return p
  }

  /// "0…1" for help and messages.
  var rangeText: String? {
    func text(_ x: Double) -> String {
      abs(x) == Param.maxInteger ? (x < 0 ? "-2^53" : "2^53") : Value.format(x)
    }
    return range.map { "\(text($0.lowerBound))…\(text($0.upperBound))" }
  }

  /// A positional parameter.
  public static func positional(
    _ name: String, _ type: ParamType, _ help: String, default d: Value? = nil
  ) -> Param {
    Param(name: name, type: type, defaultValue: d, help: help, positional: true, variadic: false)
  }
  /// An option `name: value` with a default.
  public static func option(_ name: String, _ type: ParamType, _ help: String, default d: Value?)
    -> Param
  {
    Param(name: name, type: type, defaultValue: d, help: help, positional: false, variadic: false)
  }
  /// An option naming one word of an enum's vocabulary (help lists the words; binding checks them).
  public static func choice<E: RawRepresentable & CaseIterable>(
    _ name: String, _ type: E.Type, _ help: String, default d: E?
  ) -> Param
  where E.RawValue == String {
    .option(
      name, .choice(E.allCases.map(\.rawValue)), help,
      default: d.map { .string($0.rawValue) } ?? .nilValue)
  }
  /// Any number of positional values, collected into a list.
  public static func variadic(_ name: String, _ help: String) -> Param {
    Param(
      name: name, type: .any, defaultValue: .list([]), help: help, positional: true, variadic: true)
  }
}
