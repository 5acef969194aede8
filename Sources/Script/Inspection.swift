/// What Shift-Tab shows at a cursor (the notebook kernel's inspection): a variable's type and
/// value, a command's help, or, inside a call, the help of the command being called with the
/// option under the cursor marked.
extension Interpreter {
  /// The text for the cursor in `code` (characters), or nil when nothing there has one.
  public func inspection(in code: String, at cursor: Int) -> String? {
    let chars = Array(code)
    let c = min(max(cursor, 0), chars.count)
    let scan = Self.scanContext(chars, upTo: c)
    guard !scan.inString else { return nil }
    func isWord(_ ch: Character) -> Bool { ch.isLetter || ch.isNumber || ch == "_" }
    var s = c, e = c
    while s > 0, isWord(chars[s - 1]) { s -= 1 }
    while e < chars.count, isWord(chars[e]) { e += 1 }
    let word = String(chars[s..<e])
    var after = e
    while after < chars.count, chars[after] == " " { after += 1 }
    let isOption = after < chars.count && chars[after] == ":"
    if !word.isEmpty, !isOption {
      if let v = globals[word] { return Self.describe(word, v) }
      if commands[word] != nil, let text = help(for: word) { return Self.tooltip(text) }
    }
    guard let call = Self.enclosingCall(chars, upTo: c, openParen: scan.openParen, self),
      let text = help(for: call.name)
    else { return nil }
    let option = isOption ? word : call.option
    return Self.mark(option, in: Self.tooltip(text))
  }

  /// A help text for a tooltip: a usage line too long to read becomes the short signature (the
  /// positionals, then "[options]"; the options are listed below it).
  static func tooltip(_ text: String) -> String {
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    guard let usage = lines.first, usage.count > 100 else { return text }
    let parts = usage.components(separatedBy: " [")
    let positionals = parts.dropFirst().filter { !$0.contains(":") }.map { "[" + $0 }
    lines[0] = ([parts[0]] + positionals + ["[options]"]).joined(separator: " ")
    return lines.joined(separator: "\n")
  }

  /// A variable's type, its value as `print` shows it (shortened) and its fields.
  static func describe(_ name: String, _ v: Value) -> String {
    var text = v.description
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    if lines.count > 30 { text = lines.prefix(30).joined(separator: "\n") + "\n…" }
    if text.count > 2000 { text = String(text.prefix(2000)) + " …" }
    var out = "\(name): \(v.typeName)\n\(text)"
    if case .handle(let h as ScriptFieldAccess) = v, !h.fieldNames.isEmpty {
      out += "\nfields: " + h.fieldNames.joined(separator: ", ")
    } else if case .record(let r) = v, !r.keys.isEmpty {
      out += "\nfields: " + r.keys.joined(separator: ", ")
    }
    return out
  }

  /// Whether the cursor is inside a string, and the innermost open parenthesis before it.
  static func scanContext(_ chars: [Character], upTo c: Int) -> (inString: Bool, openParen: Int?) {
    var inString = false, escaped = false, comment = false
    var parens: [Int] = []
    for i in 0..<c {
      let ch = chars[i]
      if comment {
        if ch == "\n" { comment = false }
        continue
      }
      if inString {
        if escaped {
          escaped = false
        } else if ch == "\\" {
          escaped = true
        } else if ch == "\"" {
          inString = false
        }
        continue
      }
      switch ch {
      case "\"": inString = true
      case "#": comment = true
      case "(": parens.append(i)
      case ")": _ = parens.popLast()
      default: break
      }
    }
    return (inString, parens.last)
  }

  /// The command whose arguments hold the cursor: the name before the innermost open parenthesis,
  /// else the first word of the cursor's statement (after an assignment); and the last option
  /// named before the cursor in it.
  static func enclosingCall(
    _ chars: [Character], upTo c: Int, openParen: Int?, _ interp: Interpreter
  ) -> (name: String, option: String?)? {
    func isWord(_ ch: Character) -> Bool { ch.isLetter || ch.isNumber || ch == "_" }
    var nameEnd: Int, argsStart: Int
    if let p = openParen {
      nameEnd = p
      while nameEnd > 0, chars[nameEnd - 1] == " " { nameEnd -= 1 }
      argsStart = p + 1
    } else {
      var start = c
      while start > 0, !"\n;{}".contains(chars[start - 1]) { start -= 1 }
      var i = start
      while i < c, chars[i] == " " || chars[i] == "\t" { i += 1 }
      var j = i
      while j < c, isWord(chars[j]) { j += 1 }
      var k = j
      while k < c, chars[k] == " " { k += 1 }
      if k < c, chars[k] == "=", k + 1 >= chars.count || chars[k + 1] != "=" {
        i = k + 1  // `x = command …`
        while i < c, chars[i] == " " { i += 1 }
        j = i
        while j < c, isWord(chars[j]) { j += 1 }
      }
      guard j > i, j < c else { return nil }  // the cursor must be past the command's name
      nameEnd = j
      argsStart = j
    }
    var nameStart = nameEnd
    while nameStart > 0, isWord(chars[nameStart - 1]) { nameStart -= 1 }
    let name = String(chars[nameStart..<nameEnd])
    guard !name.isEmpty, interp.commands[name] != nil else { return nil }
    // The last `word:` between the call's start and the cursor.
    var option: String?
    var i = argsStart
    while i < c {
      if isWord(chars[i]) {
        var j = i
        while j < c, isWord(chars[j]) { j += 1 }
        var k = j
        while k < c, chars[k] == " " { k += 1 }
        if k < c, chars[k] == ":" { option = String(chars[i..<j]) }
        i = j
      } else {
        i += 1
      }
    }
    return (name, option)
  }

  /// The help text with the option's row marked (▶) and named above it.
  static func mark(_ option: String?, in text: String) -> String {
    guard let option else { return text }
    var found = false
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
      let row = line.drop { $0 == " " }
      guard line.hasPrefix("  "), row.hasPrefix(option + " ") else { return String(line) }
      found = true
      return "▶ " + row
    }
    guard found else { return text }
    return "option \(option):\n" + lines.joined(separator: "\n")
  }
}
