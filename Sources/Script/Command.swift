/// The type a command parameter accepts.
public enum ParamType: Sendable, Equatable, CustomStringConvertible {
  /// `number` is finite; `real` also takes ±inf and NaN (math functions); `integer` is a whole number
  /// of at most 2^53 in magnitude, so it converts to `Int` exactly.
  case any, number, real, integer, string, bool, list, record
  /// A workbench handle of the given type name (`model`, `clip`, …).
  case handle(String)

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
    default: return false
    }
  }
}

/// One parameter of a command: positional (in order) or an option (`name: value`); help and argument
/// checking both come from this declaration.
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
    func text(_ x: Double) -> String { abs(x) == Param.maxInteger ? (x < 0 ? "-2^53" : "2^53") : Value.format(x) }
    return range.map { "\(text($0.lowerBound))…\(text($0.upperBound))" }
  }

  /// A positional parameter.
  public static func positional(_ name: String, _ type: ParamType, _ help: String, default d: Value? = nil) -> Param {
    Param(name: name, type: type, defaultValue: d, help: help, positional: true, variadic: false)
  }
  /// An option `name: value` with a default.
  public static func option(_ name: String, _ type: ParamType, _ help: String, default d: Value?) -> Param {
    Param(name: name, type: type, defaultValue: d, help: help, positional: false, variadic: false)
  }
  /// Any number of positional values, collected into a list.
  public static func variadic(_ name: String, _ help: String) -> Param {
    Param(name: name, type: .any, defaultValue: .list([]), help: help, positional: true, variadic: true)
  }
}

/// The arguments of one call, bound and checked against the declaration.
public struct Arguments {
  /// Values by parameter name (defaults filled in; nil defaults stay `.nilValue`).
  public let values: [String: Value]
  /// The command's name (for messages).
  public let command: String
  /// Where the call is.
  public let location: SourceLocation?

  /// A value by parameter name.
  public subscript(_ name: String) -> Value { values[name] ?? .nilValue }

  /// A number argument.
  public func number(_ name: String) throws -> Double {
    if case .number(let n) = self[name] { return n }
    throw ScriptError(.runtime, "'\(command)': argument '\(name)' must be a number, got \(self[name].typeName)", at: location)
  }
  /// An integer argument (a whole number of at most 2^53 in magnitude; anything else is a located error).
  public func int(_ name: String) throws -> Int {
    let n = try number(name)
    guard n == n.rounded(), abs(n) <= Param.maxInteger else {
      throw ScriptError(.runtime, "'\(command)': argument '\(name)' must be a whole number of at most 2^53, got \(Value.format(n))", at: location)
    }
    return Int(n)
  }
  /// A seed argument: an integer in 0…2^53.
  public func seed(_ name: String) throws -> UInt64 {
    let n = try int(name)
    guard n >= 0 else { throw ScriptError(.runtime, "'\(command)': seed '\(name)' must be in 0…2^53, got \(n)", at: location) }
    return UInt64(n)
  }
  /// A string argument.
  public func string(_ name: String) throws -> String {
    if case .string(let s) = self[name] { return s }
    throw ScriptError(.runtime, "'\(command)': argument '\(name)' must be a string, got \(self[name].typeName)", at: location)
  }
  /// A bool argument.
  public func bool(_ name: String) throws -> Bool {
    if case .bool(let b) = self[name] { return b }
    throw ScriptError(.runtime, "'\(command)': argument '\(name)' must be a bool, got \(self[name].typeName)", at: location)
  }
  /// A handle argument of a given Swift type.
  public func handle<H: ScriptHandle>(_ name: String, as: H.Type) throws -> H {
    if case .handle(let h) = self[name], let typed = h as? H { return typed }
    throw ScriptError(.runtime, "'\(command)': argument '\(name)' has the wrong type (\(self[name].typeName))", at: location)
  }
  /// A list argument (ranges expand).
  public func list(_ name: String) throws -> [Value] {
    switch self[name] {
    case .list(let l): return l
    case .range(let a, let b): return try Value.expand(a, b, at: location)
    default: throw ScriptError(.runtime, "'\(command)': argument '\(name)' must be a list, got \(self[name].typeName)", at: location)
    }
  }
  /// A list of indices (class labels, frame numbers): whole numbers in 0..<limit, each checked.
  public func indices(_ name: String, below limit: Int) throws -> [Int] {
    try list(name).enumerated().map { i, v in
      guard case .number(let n) = v, n == n.rounded(), n >= 0, n < Double(limit) else {
        throw ScriptError(.runtime, "'\(command)': \(name)[\(i)] must be a whole number in 0..<\(limit), got \(v.render(top: false))", at: location)
      }
      return Int(n)
    }
  }
  /// Whether the caller gave the argument (or it has a non-nil default).
  public func has(_ name: String) -> Bool {
    if case .nilValue = self[name] { return false }
    return true
  }
}

/// A command of the language: declaration (name, topic, parameters, help, example) and behaviour.
public struct Command {
  /// The name scripts call.
  public let name: String
  /// Help topic (`language`, `math`, `model`, …).
  public let topic: String
  /// One line: what it does.
  public let summary: String
  /// Parameters in order.
  public let params: [Param]
  /// What it returns.
  public let returns: String
  /// A usage example.
  public let example: String
  /// The behaviour.
  public let run: (Arguments, Interpreter) throws -> Value
  /// Bare names as arguments are taken as strings (`help tube`), not evaluated.
  public let bareNames: Bool

  /// A command.
  public init(
    _ name: String, topic: String, summary: String, params: [Param] = [], returns: String = "nil", example: String,
    bareNames: Bool = false, run: @escaping (Arguments, Interpreter) throws -> Value
  ) {
    self.bareNames = bareNames
    self.name = name
    self.topic = topic
    self.summary = summary
    self.params = params
    self.returns = returns
    self.example = example
    self.run = run
  }

  /// "name POS… [opt: default]…".
  public var usage: String {
    var parts = [name]
    for p in params {
      if p.variadic {
        parts.append("\(p.name.uppercased())…")
      } else if p.positional {
        parts.append(p.defaultValue == nil ? p.name.uppercased() : "[\(p.name.uppercased())]")
      } else {
        parts.append("[\(p.name): \(p.defaultValue.map { $0.render(top: false) } ?? p.type.description)]")
      }
    }
    return parts.joined(separator: " ")
  }

  /// The full help text: usage, summary, every parameter with type and default, return value, example.
  public var help: String {
    var s = "\(usage)\n  \(summary)\n"
    if !params.isEmpty {
      let width = params.map(\.name.count).max() ?? 0
      for p in params {
        let def: String
        if p.variadic { def = "any number" } else if let d = p.defaultValue { def = "default \(d.render(top: false))" } else { def = "required" }
        let allowed = p.rangeText.map { " (\($0))" } ?? ""
        s +=
          "  \(p.name.padding(toLength: width, withPad: " ", startingAt: 0))  \(p.type.description.padding(toLength: 8, withPad: " ", startingAt: 0)) \(def.padding(toLength: 16, withPad: " ", startingAt: 0)) \(p.help)\(allowed)\n"
      }
    }
    s += "  returns: \(returns)\n  example: \(example)"
    return s
  }

  /// Binds call arguments to the parameters, checking names, count and types.
  func bind(_ positional: [Value], _ named: [(String, Value, SourceLocation)], at loc: SourceLocation?) throws -> Arguments {
    var values: [String: Value] = [:]
    var queue = positional[...]
    for p in params where p.positional {
      if p.variadic {
        values[p.name] = .list(Array(queue))
        queue = []
        break
      }
      if let v = queue.popFirst() { values[p.name] = v }
    }
    if !queue.isEmpty {
      throw ScriptError(
        .runtime, "'\(name)' takes \(params.filter(\.positional).count) positional argument(s), got \(positional.count); usage: \(usage)", at: loc)
    }
    for (n, v, l) in named {
      guard params.contains(where: { $0.name == n }) else {
        throw ScriptError(.runtime, "'\(name)' has no option '\(n)'\(suggestion(for: n, among: params.map(\.name))); usage: \(usage)", at: l)
      }
      if values[n] != nil { throw ScriptError(.runtime, "'\(name)': '\(n)' given twice", at: l) }
      values[n] = v
    }
    for p in params {
      if let v = values[p.name] {
        if !p.variadic, !p.type.accepts(v), !(v == .nilValue && p.defaultValue == .nilValue) {
          let what = p.type == .integer ? "an integer of at most 2^53" : p.type == .number ? "a finite number" : "\(p.type)"
          throw ScriptError(.runtime, "'\(name)': '\(p.name)' expects \(what), got \(v.typeName) (\(v.render(top: false)))", at: loc)
        }
        if let r = p.range, case .number(let n) = v, !r.contains(n) {
          throw ScriptError(.runtime, "'\(name)': '\(p.name)' must be in \(p.rangeText ?? ""), got \(Value.format(n))", at: loc)
        }
      } else if let d = p.defaultValue {
        values[p.name] = d
      } else {
        throw ScriptError(.runtime, "'\(name)' needs '\(p.name)' (\(p.help)); usage: \(usage)", at: loc)
      }
    }
    return Arguments(values: values, command: name, location: loc)
  }
}
