import Foundation

/// The language's own commands: output, help, values, math. The workbench adds its commands the
/// same way.
enum Builtins {
  /// Every built-in command.
  static var all: [any ScriptCommand] {
    [
      Print(), HelpCommand(), Length(), TypeName(), ToString(), ToNumber(), Keys(), Append(),
      RangeList(), Assert(), Fail(), Vars(), Clock(),
    ]
      + MathFunction.all + Aggregate.all
  }
}

/// `print`: values separated by spaces.
struct Print: ScriptCommand {
  let declaration = CommandDeclaration(
    "print", topic: "language", summary: "Print values separated by spaces.",
    params: [.variadic("values", "values to print")],
    example: "print \"loss\", 0.25", rootOnly: true)
  func run(_ a: Arguments, in interp: Interpreter) throws -> Value {
    interp.output(try a.list("values").map(\.description).joined(separator: " "))
    return .nilValue
  }
}

/// `help`: the command list, or one command's usage.
struct HelpCommand: ScriptCommand {
  let declaration = CommandDeclaration(
    "help", topic: "language",
    summary:
      "List commands by topic, or show one command's usage, options with defaults, and an example.",
    params: [.positional("name", .any, "a command or keyword", default: .nilValue)],
    example: "help tube", bareNames: true)
  func run(_ a: Arguments, in interp: Interpreter) throws -> Value {
    interp.output(try Help.helpText(a["name"], interp))
    return .nilValue
  }
}

/// `len`: items, characters or fields.
struct Length: ScriptCommand {
  let declaration = CommandDeclaration(
    "len", topic: "values",
    summary: "Number of items of a list, characters of a string, fields of a record.",
    params: [.positional("value", .any, "a list, string, record or range")], returns: "number",
    example: "len([1, 2, 3])")
  func run(_ a: Arguments, in interp: Interpreter) throws -> Value {
    switch a["value"] {
    case .list(let l): return .number(Double(l.count))
    case .string(let s): return .number(Double(s.count))
    case .record(let r): return .number(Double(r.keys.count))
    case .range(let x, let y): return .number(Double(max(y - x + 1, 0)))
    default:
      throw ScriptError(.runtime, "len: a \(a["value"].typeName) has no length", at: a.location)
    }
  }
}

/// `type`: a value's type name.
struct TypeName: ScriptCommand {
  let declaration = CommandDeclaration(
    "type", topic: "values", summary: "The type name of a value.",
    params: [.positional("value", .any, "any value")], returns: "string",
    example: "type(3)")
  func run(_ a: Arguments, in interp: Interpreter) throws -> Value { .string(a["value"].typeName) }
}

/// `str`: a value as a string.
struct ToString: ScriptCommand {
  let declaration = CommandDeclaration(
    "str", topic: "values", summary: "A value as a string.",
    params: [.positional("value", .any, "any value")], returns: "string",
    example: "str(0.5)")
  func run(_ a: Arguments, in interp: Interpreter) throws -> Value {
    .string(a["value"].description)
  }
}

/// `num`: a string parsed as a number.
struct ToNumber: ScriptCommand {
  let declaration = CommandDeclaration(
    "num", topic: "values", summary: "A string parsed as a number.",
    params: [.positional("text", .string, "the text")], returns: "number",
    example: "num(\"2.5\")")
  func run(_ a: Arguments, in interp: Interpreter) throws -> Value {
    let text = try a.string("text")
    guard let v = Double(text.trimmingCharacters(in: .whitespaces)) else {
      throw ScriptError(.runtime, "num: '\(text)' is not a number", at: a.location)
    }
    return .number(v)
  }
}

/// `keys`: a record's field names.
struct Keys: ScriptCommand {
  let declaration = CommandDeclaration(
    "keys", topic: "values", summary: "The field names of a record.",
    params: [.positional("record", .record, "a record")], returns: "list",
    example: "keys({a: 1, b: 2})")
  func run(_ a: Arguments, in interp: Interpreter) throws -> Value {
    guard case .record(let r) = a["record"] else { return .list([]) }
    return .list(r.keys.map { .string($0) })
  }
}

/// `append`: a new list with one more item.
struct Append: ScriptCommand {
  let declaration = CommandDeclaration(
    "append", topic: "values", summary: "A new list with a value added at the end.",
    params: [.positional("list", .list, "the list"), .positional("value", .any, "the new item")],
    returns: "list", example: "xs = append(xs, 4)")
  func run(_ a: Arguments, in interp: Interpreter) throws -> Value {
    let xs = try a.list("list")
    try interp.charge(Interpreter.listBytes(xs.count &+ 1), "a list", at: a.location)
    return .list(xs + [a["value"]])
  }
}

/// `range`: numbers from start to stop by step (at most 10^7 of them).
struct RangeList: ScriptCommand {
  let declaration = CommandDeclaration(
    "range", topic: "values", summary: "Numbers from start up to (not including) stop, by step.",
    params: [
      .positional("start", .number, "first number"), .positional("stop", .number, "end (excluded)"),
      .option("step", .number, "increment", default: .number(1)),
    ],
    returns: "list", example: "range(0, 1, step: 0.25)")
  func run(_ a: Arguments, in interp: Interpreter) throws -> Value {
    let (x, y, s) = (try a.number("start"), try a.number("stop"), try a.number("step"))
    guard s != 0, abs((y - x) / s) < 1e7 else {
      throw ScriptError(
        .runtime, "range: step \(Value.format(s)) is zero or makes too many items", at: a.location)
    }
    var out: [Value] = [], v = x
    while s > 0 ? v < y - 1e-12 : v > y + 1e-12 {
      out.append(.number(v))
      v += s
    }
    return .list(out)
  }
}

/// The one-argument math functions (`abs`, `sqrt`, `exp`, `log`, `floor`, `round`).
struct MathFunction: ScriptCommand {
  let declaration: CommandDeclaration
  let f: @Sendable (Double) -> Double

  static var all: [any ScriptCommand] {
    [
      MathFunction("abs", "Absolute value.") { Swift.abs($0) },
      MathFunction("sqrt", "Square root.") { Foundation.sqrt($0) },
      MathFunction("exp", "e to the power x.") { Foundation.exp($0) },
      MathFunction("log", "Natural logarithm.") { Foundation.log($0) },
      MathFunction("floor", "Largest integer not above x.") { Foundation.floor($0) },
      MathFunction("round", "Nearest integer.") { $0.rounded() },
    ]
  }

  init(_ name: String, _ summary: String, _ f: @escaping @Sendable (Double) -> Double) {
    declaration = CommandDeclaration(
      name, topic: "math", summary: summary, params: [.positional("x", .real, "a number")],
      returns: "number", example: "\(name)(2)")
    self.f = f
  }
  func run(_ a: Arguments, in interp: Interpreter) throws -> Value { .number(f(try a.number("x"))) }
}

/// The aggregates of numbers or one list (`min`, `max`, `sum`, `mean`).
struct Aggregate: ScriptCommand {
  /// Which aggregate.
  enum Kind: String, CaseIterable { case min, max, sum, mean }
  let kind: Kind
  var declaration: CommandDeclaration {
    let doc: [Kind: String] = [
      .min: "Smallest of the numbers.", .max: "Largest of the numbers.",
      .sum: "Sum of the numbers.", .mean: "Mean of the numbers.",
    ]
    return CommandDeclaration(
      kind.rawValue, topic: "math", summary: (doc[kind] ?? "") + " Takes numbers or one list.",
      params: [.variadic("values", "numbers, or one list")],
      returns: "number", example: "\(kind.rawValue)([3, 1, 2])")
  }

  static var all: [any ScriptCommand] { Kind.allCases.map { Aggregate(kind: $0) } }

  func run(_ a: Arguments, in interp: Interpreter) throws -> Value {
    let name = kind.rawValue
    var items = try a.list("values")
    if items.count == 1, case .list(let inner) = items[0] { items = inner }
    if items.count == 1, case .range(let x, let y) = items[0] {
      items = try Value.expand(x, y, at: a.location)
    }
    let xs = try items.map { v -> Double in
      guard case .number(let x) = v else {
        throw ScriptError(.runtime, "\(name): \(v.typeName) is not a number", at: a.location)
      }
      return x
    }
    guard !xs.isEmpty || kind == .sum else {
      throw ScriptError(.runtime, "\(name) of no numbers", at: a.location)
    }
    switch kind {
    case .min: return .number(xs.min() ?? .nan)
    case .max: return .number(xs.max() ?? .nan)
    case .sum: return .number(xs.reduce(0, +))
    case .mean: return .number(xs.reduce(0, +) / Double(xs.count))
    }
  }
}

/// `assert`: fail unless the condition holds.
struct Assert: ScriptCommand {
  let declaration = CommandDeclaration(
    "assert", topic: "language", summary: "Fail with a message unless the condition holds.",
    params: [
      .positional("condition", .any, "what must be true"),
      .positional("message", .string, "the error message", default: .string("assertion failed")),
    ],
    example: "assert x > 0, \"x must be positive\"")
  func run(_ a: Arguments, in interp: Interpreter) throws -> Value {
    if !a["condition"].isTrue {
      throw ScriptError(.runtime, try a.string("message"), at: a.location)
    }
    return .nilValue
  }
}

/// `error`: stop with a message.
struct Fail: ScriptCommand {
  let declaration = CommandDeclaration(
    "error", topic: "language", summary: "Stop with an error message.",
    params: [.positional("message", .string, "the message")],
    example: "error \"no clip loaded\"")
  func run(_ a: Arguments, in interp: Interpreter) throws -> Value {
    throw ScriptError(.runtime, try a.string("message"), at: a.location)
  }
}

/// `vars`: the session's variables.
struct Vars: ScriptCommand {
  let declaration = CommandDeclaration(
    "vars", topic: "language", summary: "The variables of the session and their values.",
    example: "vars")
  func run(_ a: Arguments, in interp: Interpreter) throws -> Value {
    for (k, v) in interp.globals.sorted(by: { $0.key < $1.key }) {
      interp.output("\(k) = \(v.render(top: false))")
    }
    return .nilValue
  }
}

/// `clock`: seconds for timing.
struct Clock: ScriptCommand {
  let declaration = CommandDeclaration(
    "clock", topic: "values", summary: "Seconds since an arbitrary start (for timing).",
    returns: "number", example: "t0 = clock")
  func run(_ a: Arguments, in interp: Interpreter) throws -> Value {
    .number(ProcessInfo.processInfo.systemUptime)
  }
}
