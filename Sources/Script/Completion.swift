import Foundation

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

/// What completion offers at a cursor: the matches and the characters they replace
/// (`start..<end`, in characters of the code).
public struct CompletionResult: Equatable, Sendable {
  /// The candidates, each replacing `start..<end`.
  public var matches: [String]
  /// Where the replaced text starts.
  public var start: Int
  /// Where it ends (the cursor).
  public var end: Int
}

extension Interpreter {
  /// Completions at `cursor` in `code`, by the cursor's context — one function for the REPL's Tab
  /// and the Jupyter kernel's: inside a string literal, file paths (folders end with `/`, `~`
  /// expanded, relative paths from the current directory); after `value.`, that value's fields (a
  /// record's keys, a handle's fields); else the option names of the command being typed, then
  /// commands, variables and keywords.
  public func completion(in code: String, at cursor: Int) -> CompletionResult {
    let chars = Array(code.prefix(max(0, cursor)))
    let lineStart = (chars.lastIndex(of: "\n").map { $0 + 1 }) ?? 0
    // Inside a string: an odd number of unescaped quotes on the line before the cursor.
    var open: Int? = nil
    var i = lineStart
    while i < chars.count {
      if chars[i] == "\\", open != nil {
        i += 2
        continue
      }
      if chars[i] == "\"" { open = open == nil ? i : nil }
      i += 1
    }
    if let open {
      let partial = String(chars[(open + 1)...])
      return CompletionResult(
        matches: pathCompletions(partial), start: open + 1, end: chars.count)
    }
    let (word, start) = Self.word(in: code, at: cursor)
    if start > 0, chars[start - 1] == "." {
      let (base, _) = Self.word(in: code, at: start - 1)
      let fields = lookup(base).map(Self.fieldNames(of:)) ?? []
      return CompletionResult(
        matches: fields.filter { $0.hasPrefix(word) }.sorted(), start: start,
        end: start + word.count)
    }
    let line = String(chars[lineStart..<start])
    return CompletionResult(
      matches: completions(of: word, after: line), start: start, end: start + word.count)
  }

  /// The names the language accepts after `value.`.
  static func fieldNames(of v: Value) -> [String] {
    switch v {
    case .record(let r): return r.keys
    case .handle(let h): return (h as? ScriptFieldAccess)?.fieldNames ?? []
    default: return []
    }
  }

  /// Paths that complete `partial` (as typed: `~` expanded for the lookup, kept in the match),
  /// folders with a trailing `/`; hidden entries only when the typed name starts with a dot; at
  /// most 200.
  func pathCompletions(_ partial: String) -> [String] {
    let slash = partial.lastIndex(of: "/")
    let typedFolder = slash.map { String(partial[...$0]) } ?? ""
    let name = slash.map { String(partial[partial.index(after: $0)...]) } ?? partial
    var folder = typedFolder.isEmpty ? "." : typedFolder
    if folder.hasPrefix("~") { folder = NSString(string: folder).expandingTildeInPath }
    if !folder.hasPrefix("/") { folder = currentDirectory + "/" + folder }
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: folder) else {
      return []
    }
    var out: [String] = []
    for e in entries.sorted() where e.hasPrefix(name) && (name.hasPrefix(".") || !e.hasPrefix("."))
    {
      var isDir: ObjCBool = false
      FileManager.default.fileExists(atPath: folder + "/" + e, isDirectory: &isDir)
      out.append(typedFolder + e + (isDir.boolValue ? "/" : ""))
      if out.count == 200 { break }
    }
    return out
  }
}
