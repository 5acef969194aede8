/// The text `help` prints: the command list by topic, one command's declaration, keyword syntax.
enum Help {
  /// Syntax notes for keywords, shown by `help if` etc.
  static let keywordHelp: [String: String] = [
    "if": "if CONDITION { … } else if CONDITION { … } else { … }",
    "for":
      """
    for NAME in LIST-OR-RANGE { … }      e.g. for r in [0.75, 0.9] { print r }   for i in \
    1..3 { … }
    """,
    "while": "while CONDITION { … }   (break / continue inside)",
    "proc": "proc NAME(a, b: default) { … return value }   called as NAME(1, b: 2) or NAME 1 b: 2",
    "source": "source \"file.svfap\"   runs another script in this session",
    "return": "return [VALUE]   leaves the procedure", "break": "break   leaves the innermost loop",
    "continue": "continue   next iteration",
    "ans": "ans   the last value shown; end a statement with ';' to hide its value",
  ]

  static func helpText(_ name: Value, _ interp: Interpreter) throws -> String {
    switch name {
    case .nilValue:
      var s = "Commands by topic (help NAME for details; help syntax for the language):\n"
      let width = max(16, interp.commands.keys.map(\.count).max() ?? 0)
      for (topic, commands) in interp.commandsByTopic {
        s += "\n\(topic):\n"
        for c in commands { s += "  \(padded(c.name, width)) \(c.summary)\n" }
      }
      return s
    case .string(let n): return try helpText(forName: n, interp)
    case .procedure(let p):
      return "proc \(p.name)(\(p.params.map(\.0).joined(separator: ", "))) defined at \(p.location)"
    default: return "help takes a command name"
    }
  }

  static func helpText(forName n: String, _ interp: Interpreter) throws -> String {
    if let c = interp.commands[n] { return c.help }
    if n == "syntax" {
      return keywordHelp.sorted { $0.key < $1.key }.map(\.value).joined(separator: "\n")
        + """
        \nvalues: 1.5  \"text {expr}\"  true false nil  [1, 2]  {key: value}  1..5\noperators: \
        + - * / % ^  == != < <= > >=  and or not  x[i]  r.key
        """
    }
    if let k = keywordHelp[n] { return k }
    throw ScriptError(
      .runtime,
      """
      no help for \
      '\(n)'\(suggestion(for: n, among: Array(interp.commands.keys) + Array(keywordHelp.keys)))
      """
    )
  }
}

extension Interpreter {
  /// What `help NAME` prints, or nil when the name is neither a command nor a keyword.
  public func help(for name: String) -> String? { try? Help.helpText(forName: name, self) }
}
