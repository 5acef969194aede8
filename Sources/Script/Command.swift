/// What a command is, as help, completion, the generated reference and argument binding read it:
/// name, topic, summary, parameters (types, defaults, ranges, help), return value and example.
public struct CommandDeclaration: Sendable {
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
  /// Bare names as arguments are taken as strings (`help tube`), not evaluated.
  public let bareNames: Bool
  /// The command only shows or writes (print, figures, files): in a run of several processes
  /// (`mpirun`) rank 0 alone does it, unless the call says `on: "all"` (the `on` parameter is
  /// declared for it).
  public let rootOnly: Bool

  /// A declaration.
  public init(
    _ name: String, topic: String, summary: String, params: [Param] = [], returns: String = "nil",
    example: String,
    bareNames: Bool = false, rootOnly: Bool = false
  ) {
    (self.name, self.topic, self.summary) = (name, topic, summary)
    self.params =
      rootOnly ? params + [.choice("on", Ranks.self, Ranks.help, default: .root)] : params
    (self.returns, self.example, self.bareNames, self.rootOnly) = (
      returns, example, bareNames, rootOnly
    )
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
        parts.append(
          "[\(p.name): \(p.defaultValue.map { $0.render(top: false) } ?? p.type.description)]")
      }
    }
    return parts.joined(separator: " ")
  }

  /// The full help text: usage, summary, every parameter with type and default, return value,
  /// example.
  public var help: String {
    var s = "\(usage)\n  \(summary)\n"
    if !params.isEmpty {
      func defaultText(_ p: Param) -> String {
        if p.variadic { return "any number" }
        if let d = p.defaultValue { return "default \(d.render(top: false))" }
        return "required"
      }
      // Every column as wide as its widest entry: whole words, never cut.
      let nameWidth = params.map(\.name.count).max() ?? 0
      let typeWidth = max(8, params.map(\.type.description.count).max() ?? 0)
      let defaultWidth = max(16, params.map { defaultText($0).count }.max() ?? 0)
      for p in params {
        let allowed = p.rangeText.map { " (\($0))" } ?? ""
        s +=
          """
            \(padded(p.name, nameWidth))  \(padded(p.type.description, typeWidth)) \
          \(padded(defaultText(p), defaultWidth)) \(p.help)\(allowed)\n
          """
      }
    }
    s += "  returns: \(returns)\n  example: \(example)"
    return s
  }

  /// The error for a call with `count` positional arguments, more than the command takes.
  func tooManyPositional(_ count: Int) -> String {
    "'\(name)' takes \(params.filter(\.positional).count) positional argument(s), got \(count); "
      + "usage: \(usage)"
  }

  /// The error for an option `option` the command does not have.
  func noOption(_ option: String) -> String {
    "'\(name)' has no option '\(option)'\(suggestion(for: option, among: params.map(\.name))); "
      + "usage: \(usage)"
  }

  /// The error for an option given twice.
  func givenTwice(_ option: String) -> String { "'\(name)': '\(option)' given twice" }

  /// Binds call arguments to the parameters, checking names, count and types.
  func bind(
    _ positional: [Value], _ named: [(String, Value, SourceLocation)], at loc: SourceLocation?
  ) throws -> Arguments {
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
      throw ScriptError(.runtime, tooManyPositional(positional.count), at: loc)
    }
    for (n, v, l) in named {
      guard params.contains(where: { $0.name == n }) else {
        throw ScriptError(.runtime, noOption(n), at: l)
      }
      if values[n] != nil { throw ScriptError(.runtime, givenTwice(n), at: l) }
      values[n] = v
    }
    let given = Set(values.keys)
    for p in params {
      if let v = values[p.name] {
        if !p.variadic, !p.type.accepts(v), !(v == .nilValue && p.defaultValue == .nilValue) {
          let what: String
          switch p.type {
          case .integer: what = "an integer of at most 2^53"
          case .number: what = "a finite number"
          case .choice(let words):
            what = "one of " + words.map { "\"\($0)\"" }.joined(separator: ", ")
          default: what = "\(p.type)"
          }
          throw ScriptError(
            .runtime,
            "'\(name)': '\(p.name)' expects \(what), got \(v.typeName) (\(v.render(top: false)))",
            at: loc)
        }
        if let r = p.range, case .number(let n) = v, !r.contains(n) {
          throw ScriptError(
            .runtime,
            "'\(name)': '\(p.name)' must be in \(p.rangeText ?? ""), got \(Value.format(n))",
            at: loc)
        }
      } else if let d = p.defaultValue {
        values[p.name] = d
      } else {
        throw ScriptError(
          .runtime, "'\(name)' needs '\(p.name)' (\(p.help)); usage: \(usage)", at: loc)
      }
    }
    return Arguments(values: values, command: name, location: loc, given: given)
  }
}

/// A command of the language as a type (the swift-argument-parser way): its declaration and its
/// behaviour on arguments already bound and checked against that declaration.
public protocol ScriptCommand {
  /// Name, topic, summary, parameters, return value and example.
  var declaration: CommandDeclaration { get }
  /// Runs the command.
  func run(_ arguments: Arguments, in interpreter: Interpreter) throws -> Value
}

/// A registered command: its declaration (read through, e.g. `command.name`) and implementation.
@dynamicMemberLookup
public struct Command {
  /// The declaration.
  public let declaration: CommandDeclaration
  /// The implementation.
  public let implementation: any ScriptCommand

  /// Registers `c`, reading its declaration once.
  init(_ c: any ScriptCommand) { (declaration, implementation) = (c.declaration, c) }

  /// A field of the declaration.
  public subscript<T>(dynamicMember path: KeyPath<CommandDeclaration, T>) -> T {
    declaration[keyPath: path]
  }
}

/// Which processes of a run of several (`mpirun`) do a command that shows or writes.
public enum Ranks: String, CaseIterable, Sendable {
  /// Rank 0 alone (the default).
  case root
  /// Every rank (paths may use `{rank}` to keep the files apart).
  case all

  /// The `on` parameter's help.
  static let help = "under mpirun: \"root\" (rank 0 alone) or \"all\" ranks do it"
}

/// `s` followed by spaces up to `width` characters (never cut: a longer `s` stays whole).
func padded(_ s: String, _ width: Int) -> String {
  s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
}
