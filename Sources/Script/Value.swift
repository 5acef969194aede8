import Foundation

/// An object the workbench puts into the language (clip, model, dataset, figure, tensor): opaque to
/// scripts, printed as a one-line summary.
public protocol ScriptHandle: AnyObject {
  /// The type name scripts see (`model`, `clip`, …).
  var typeName: String { get }
  /// One readable line.
  var summary: String { get }
}

/// A record: fields in insertion order.
public struct Record: Sendable, Equatable {
  /// Field names in order.
  public private(set) var keys: [String] = []
  private var values: [String: Value] = [:]

  /// An empty record.
  public init() {}
  /// A record from pairs.
  public init(_ pairs: [(String, Value)]) { for (k, v) in pairs { self[k] = v } }

  /// A field's value.
  public subscript(key: String) -> Value? {
    get { values[key] }
    set {
      if values[key] == nil, newValue != nil { keys.append(key) }
      if newValue == nil { keys.removeAll { $0 == key } }
      values[key] = newValue
    }
  }

  /// (key, value) pairs in order.
  public var pairs: [(String, Value)] { keys.compactMap { k in values[k].map { (k, $0) } } }
}

/// A user procedure.
public final class Procedure: @unchecked Sendable {
  /// Its name.
  public let name: String
  /// Parameters with optional default expressions.
  public let params: [(String, Expr?)]
  /// The body.
  public let body: [Stmt]
  /// Where it was defined.
  public let location: SourceLocation

  init(name: String, params: [(String, Expr?)], body: [Stmt], location: SourceLocation) {
    self.name = name
    self.params = params
    self.body = body
    self.location = location
  }
}

extension Value {
  /// The most items a range may expand into as a list (10^7); longer ones are refused, not
  /// allocated.
  public static let maxExpandedRange = 10_000_000

  /// The numbers a…b as a list, or a located error when there are more than `maxExpandedRange`.
  public static func expand(_ a: Int, _ b: Int, at l: SourceLocation?) throws -> [Value] {
    guard a <= b else { return [] }
    guard b - a < maxExpandedRange else {
      throw ScriptError(
        .runtime,
        """
        the range \(a)..\(b) has \(b - a + 1) items, more than \(maxExpandedRange) can be made \
        into a list (a for loop over it is fine)
        """,
        at: l)
    }
    return (a...b).map { .number(Double($0)) }
  }
}

/// A value of the language.
public enum Value: @unchecked Sendable, Equatable, CustomStringConvertible {
  case nilValue
  case bool(Bool)
  case number(Double)
  case string(String)
  case list([Value])
  case record(Record)
  /// An inclusive integer range.
  case range(Int, Int)
  case handle(ScriptHandle)
  case procedure(Procedure)

  /// The type name shown in messages.
  public var typeName: String {
    switch self {
    case .nilValue: return "nil"
    case .bool: return "bool"
    case .number: return "number"
    case .string: return "string"
    case .list: return "list"
    case .record: return "record"
    case .range: return "range"
    case .handle(let h): return h.typeName
    case .procedure: return "procedure"
    }
  }

  /// How the REPL prints the value.
  public var description: String { render(top: true) }

  func render(top: Bool) -> String {
    switch self {
    case .nilValue: return "nil"
    case .bool(let b): return b ? "true" : "false"
    case .number(let n): return Value.format(n)
    case .string(let s):
      return top
        ? s
        : "\""
          + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(
            of: "\"", with: "\\\"") + "\""
    case .list(let l): return "[" + l.map { $0.render(top: false) }.joined(separator: ", ") + "]"
    case .record(let r):
      return "{" + r.pairs.map { "\($0.0): \($0.1.render(top: false))" }.joined(separator: ", ")
        + "}"
    case .range(let a, let b): return "\(a)..\(b)"
    case .handle(let h): return "<\(h.typeName): \(h.summary)>"
    case .procedure(let p): return "<proc \(p.name)(\(p.params.map(\.0).joined(separator: ", ")))>"
    }
  }

  /// Integers without a decimal point; other numbers in the shortest form that reads back exactly.
  public static func format(_ n: Double) -> String {
    if n.isNaN { return "nan" }
    if n.isInfinite { return n > 0 ? "inf" : "-inf" }
    if n == n.rounded(), abs(n) < 1e15 { return String(Int(n)) }
    return String(n)
  }

  /// Truthiness: false and nil are false; everything else is true.
  public var isTrue: Bool {
    switch self {
    case .nilValue: return false
    case .bool(let b): return b
    default: return true
    }
  }

  public static func == (a: Value, b: Value) -> Bool {
    switch (a, b) {
    case (.nilValue, .nilValue): return true
    case (.bool(let x), .bool(let y)): return x == y
    case (.number(let x), .number(let y)): return x == y
    case (.string(let x), .string(let y)): return x == y
    case (.list(let x), .list(let y)): return x == y
    case (.record(let x), .record(let y)): return x == y
    case (.range(let a1, let b1), .range(let a2, let b2)): return a1 == a2 && b1 == b2
    case (.handle(let x), .handle(let y)): return x === y
    case (.procedure(let x), .procedure(let y)): return x === y
    default: return false
    }
  }
}
