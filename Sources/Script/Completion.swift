extension Interpreter {
  /// Completions of `word`, typed after `before` on the line: the option names (`name:`) of the
  /// command being typed (the nearest command name before the word) win over other names; else
  /// commands, variables and keywords. The REPL's Tab and the Jupyter kernel both use it.
  public func completions(of word: String, after before: String) -> [String] {
    var names: [String] = []
    let words = before.split(whereSeparator: { !($0.isLetter || $0.isNumber || $0 == "_") }).map(
      String.init)
    if let command = words.reversed().lazy.compactMap({ self.commands[$0] }).first {
      names += command.params.map { $0.name + ":" }
    }
    names += completionNames
    let matches = Array(Set(names.filter { $0.hasPrefix(word) })).sorted()
    let options = matches.filter { $0.hasSuffix(":") }
    return !options.isEmpty && !word.isEmpty ? options : matches
  }

  /// The word (letters, digits, `_`) that ends at `cursor` in `code`, and where it starts.
  public static func word(in code: String, at cursor: Int) -> (word: String, start: Int) {
    let chars = Array(code.prefix(max(0, cursor)))
    var start = chars.count
    while start > 0,
      chars[start - 1].isLetter || chars[start - 1].isNumber || chars[start - 1] == "_"
    { start -= 1 }
    return (String(chars[start...]), start)
  }
}
