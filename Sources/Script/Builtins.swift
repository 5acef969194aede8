import Foundation

/// The language's own commands: output, help, values, math. The workbench adds its commands the same way.
enum Builtins {
  static func register(into i: Interpreter) {
    let n = ParamType.number
    i.register(
      Command(
        "print", topic: "language", summary: "Print values separated by spaces.",
        params: [.variadic("values", "values to print")], example: "print \"loss\", 0.25"
      ) { a, interp in
        interp.output(try a.list("values").map(\.description).joined(separator: " "))
        return .nilValue
      })
    i.register(
      Command(
        "help", topic: "language", summary: "List commands by topic, or show one command's usage, options with defaults, and an example.",
        params: [.positional("name", .any, "a command or keyword", default: .nilValue)], example: "help tube", bareNames: true
      ) { a, interp in
        interp.output(try helpText(a["name"], interp))
        return .nilValue
      })
    i.register(
      Command(
        "len", topic: "values", summary: "Number of items of a list, characters of a string, fields of a record.",
        params: [.positional("value", .any, "a list, string, record or range")], returns: "number", example: "len([1, 2, 3])"
      ) { a, _ in
        switch a["value"] {
        case .list(let l): return .number(Double(l.count))
        case .string(let s): return .number(Double(s.count))
        case .record(let r): return .number(Double(r.keys.count))
        case .range(let x, let y): return .number(Double(max(y - x + 1, 0)))
        default: throw ScriptError(.runtime, "len: a \(a["value"].typeName) has no length", at: a.location)
        }
      })
    i.register(
      Command(
        "type", topic: "values", summary: "The type name of a value.", params: [.positional("value", .any, "any value")],
        returns: "string", example: "type(3)"
      ) { a, _ in .string(a["value"].typeName) })
    i.register(
      Command(
        "str", topic: "values", summary: "A value as a string.", params: [.positional("value", .any, "any value")],
        returns: "string", example: "str(0.5)"
      ) { a, _ in .string(a["value"].description) })
    i.register(
      Command(
        "num", topic: "values", summary: "A string parsed as a number.", params: [.positional("text", .string, "the text")],
        returns: "number", example: "num(\"2.5\")"
      ) { a, _ in
        guard let v = Double(try a.string("text").trimmingCharacters(in: .whitespaces)) else {
          throw ScriptError(.runtime, "num: '\(try a.string("text"))' is not a number", at: a.location)
        }
        return .number(v)
      })
    i.register(
      Command(
        "keys", topic: "values", summary: "The field names of a record.", params: [.positional("record", .record, "a record")],
        returns: "list", example: "keys({a: 1, b: 2})"
      ) { a, _ in
        guard case .record(let r) = a["record"] else { return .list([]) }
        return .list(r.keys.map { .string($0) })
      })
    i.register(
      Command(
        "append", topic: "values", summary: "A new list with a value added at the end.",
        params: [.positional("list", .list, "the list"), .positional("value", .any, "the new item")], returns: "list",
        example: "xs = append(xs, 4)"
      ) { a, _ in .list(try a.list("list") + [a["value"]]) })
    i.register(
      Command(
        "range", topic: "values", summary: "Numbers from start up to (not including) stop, by step.",
        params: [.positional("start", n, "first number"), .positional("stop", n, "end (excluded)"), .option("step", n, "increment", default: .number(1))],
        returns: "list", example: "range(0, 1, step: 0.25)"
      ) { a, _ in
        let (x, y, s) = (try a.number("start"), try a.number("stop"), try a.number("step"))
        guard s != 0, abs((y - x) / s) < 1e7 else {
          throw ScriptError(.runtime, "range: step \(Value.format(s)) is zero or makes too many items", at: a.location)
        }
        var out: [Value] = [], v = x
        while s > 0 ? v < y - 1e-12 : v > y + 1e-12 {
          out.append(.number(v))
          v += s
        }
        return .list(out)
      })
    for (name, f, doc) in [
      ("abs", { (x: Double) in Swift.abs(x) }, "Absolute value."), ("sqrt", { Foundation.sqrt($0) }, "Square root."),
      ("exp", { Foundation.exp($0) }, "e to the power x."), ("log", { Foundation.log($0) }, "Natural logarithm."),
      ("floor", { Foundation.floor($0) }, "Largest integer not above x."), ("round", { ($0).rounded() }, "Nearest integer."),
    ] {
      i.register(
        Command(name, topic: "math", summary: doc, params: [.positional("x", .real, "a number")], returns: "number", example: "\(name)(2)") { a, _ in
          .number(f(try a.number("x")))
        })
    }
    for (name, doc) in [
      ("min", "Smallest of the numbers."), ("max", "Largest of the numbers."), ("sum", "Sum of the numbers."), ("mean", "Mean of the numbers."),
    ] {
      i.register(
        Command(
          name, topic: "math", summary: doc + " Takes numbers or one list.", params: [.variadic("values", "numbers, or one list")],
          returns: "number", example: "\(name)([3, 1, 2])"
        ) { a, _ in
          var items = try a.list("values")
          if items.count == 1, case .list(let inner) = items[0] { items = inner }
          if items.count == 1, case .range(let x, let y) = items[0] { items = try Value.expand(x, y, at: a.location) }
          let xs = try items.map { v -> Double in
            guard case .number(let x) = v else { throw ScriptError(.runtime, "\(name): \(v.typeName) is not a number", at: a.location) }
            return x
          }
          guard !xs.isEmpty || name == "sum" else { throw ScriptError(.runtime, "\(name) of no numbers", at: a.location) }
          switch name {
          case "min": return .number(xs.min() ?? .nan)
          case "max": return .number(xs.max() ?? .nan)
          case "sum": return .number(xs.reduce(0, +))
          default: return .number(xs.reduce(0, +) / Double(xs.count))
          }
        })
    }
    i.register(
      Command(
        "assert", topic: "language", summary: "Fail with a message unless the condition holds.",
        params: [
          .positional("condition", .any, "what must be true"), .positional("message", .string, "the error message", default: .string("assertion failed")),
        ],
        example: "assert x > 0, \"x must be positive\""
      ) { a, _ in
        if !a["condition"].isTrue { throw ScriptError(.runtime, try a.string("message"), at: a.location) }
        return .nilValue
      })
    i.register(
      Command(
        "error", topic: "language", summary: "Stop with an error message.", params: [.positional("message", .string, "the message")],
        example: "error \"no clip loaded\""
      ) { a, _ in throw ScriptError(.runtime, try a.string("message"), at: a.location) })
    i.register(
      Command("vars", topic: "language", summary: "The variables of the session and their values.", returns: "nil", example: "vars") { _, interp in
        for (k, v) in interp.globals.sorted(by: { $0.key < $1.key }) { interp.output("\(k) = \(v.render(top: false))") }
        return .nilValue
      })
    i.register(
      Command("clock", topic: "values", summary: "Seconds since an arbitrary start (for timing).", returns: "number", example: "t0 = clock") { _, _ in
        .number(ProcessInfo.processInfo.systemUptime)
      })
  }

  /// Syntax notes for keywords, shown by `help if` etc.
  static let keywordHelp: [String: String] = [
    "if": "if CONDITION { … } else if CONDITION { … } else { … }",
    "for": "for NAME in LIST-OR-RANGE { … }      e.g. for r in [0.75, 0.9] { print r }   for i in 1..3 { … }",
    "while": "while CONDITION { … }   (break / continue inside)",
    "proc": "proc NAME(a, b: default) { … return value }   called as NAME(1, b: 2) or NAME 1 b: 2",
    "source": "source \"file.svfap\"   runs another script in this session",
    "return": "return [VALUE]   leaves the procedure", "break": "break   leaves the innermost loop", "continue": "continue   next iteration",
    "ans": "ans   the last value shown; end a statement with ';' to hide its value",
  ]

  static func helpText(_ name: Value, _ interp: Interpreter) throws -> String {
    switch name {
    case .nilValue:
      var s = "Commands by topic (help NAME for details; help syntax for the language):\n"
      for (topic, commands) in interp.commandsByTopic {
        s += "\n\(topic):\n"
        for c in commands {
          s += "  \(c.name.padding(toLength: 16, withPad: " ", startingAt: 0)) \(c.summary)\n"
        }
      }
      return s
    case .string(let n): return try helpText(forName: n, interp)
    case .procedure(let p): return "proc \(p.name)(\(p.params.map(\.0).joined(separator: ", "))) defined at \(p.location)"
    default: return "help takes a command name"
    }
  }

  static func helpText(forName n: String, _ interp: Interpreter) throws -> String {
    if let c = interp.commands[n] { return c.help }
    if n == "syntax" {
      return keywordHelp.sorted { $0.key < $1.key }.map(\.value).joined(separator: "\n")
        + "\nvalues: 1.5  \"text {expr}\"  true false nil  [1, 2]  {key: value}  1..5\noperators: + - * / % ^  == != < <= > >=  and or not  x[i]  r.key"
    }
    if let k = keywordHelp[n] { return k }
    throw ScriptError(.runtime, "no help for '\(n)'\(suggestion(for: n, among: Array(interp.commands.keys) + Array(keywordHelp.keys)))")
  }
}
