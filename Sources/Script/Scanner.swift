/// Turns source text into tokens. Newlines are tokens (they end statements) except inside (), []
/// and the {…} of a record literal, where the parser skips them.
public struct Scanner {
  let chars: [Character]
  let file: String
  var i = 0
  var line = 1
  var col = 1

  /// A scanner over `source`, naming `file` in locations.
  public init(_ source: String, file: String) {
    chars = Array(source)
    self.file = file
  }

  var here: SourceLocation { SourceLocation(file: file, line: line, column: col) }

  mutating func advance() -> Character {
    let c = chars[i]
    i += 1
    if c == "\n" {
      line += 1
      col = 1
    } else {
      col += 1
    }
    return c
  }

  func peek(_ k: Int = 0) -> Character? { i + k < chars.count ? chars[i + k] : nil }

  /// All tokens, ending with `.eof`.
  public mutating func tokens() throws -> [Token] {
    var out: [Token] = []
    var space = true
    while true {
      // Whitespace and comments.
      while let c = peek() {
        if c == " " || c == "\t" || c == "\r" {
          _ = advance()
          space = true
        } else if c == "#" {
          while let d = peek(), d != "\n" { _ = advance() }
        } else if c == "\\" && peek(1) == "\n" {
          _ = advance()
          _ = advance()
          space = true
        }  // line continuation
        else {
          break
        }
      }
      let start = here
      guard let c = peek() else {
        out.append(Token(kind: .eof, location: start, spaceBefore: true))
        return out
      }
      let kind: Token.Kind
      if c == "\n" {
        _ = advance()
        kind = .newline
      } else if c.isNumber || (c == "." && (peek(1)?.isNumber ?? false)) {
        kind = .number(try number(start))
      } else if c.isLetter || c == "_" {
        var s = ""
        while let d = peek(), d.isLetter || d.isNumber || d == "_" {
          s.append(advance())
        }
        kind = keywords.contains(s) ? .keyword(s) : .identifier(s)
      } else if c == "\"" {
        kind = .string(try string(start))
      } else {
        let two = String(c) + (peek(1).map(String.init) ?? "")
        let three = two + (peek(2).map(String.init) ?? "")
        // The longest symbol that starts here.
        if let symbol = Symbol(rawValue: three) ?? Symbol(rawValue: two)
          ?? Symbol(rawValue: String(c))
        {
          for _ in symbol.rawValue { _ = advance() }
          kind = .symbol(symbol)
        } else {
          throw ScriptError(.scan, "unexpected character '\(c)'", at: start)
        }
      }
      out.append(Token(kind: kind, location: start, spaceBefore: space))
      space = kind == .newline
    }
  }

  mutating func number(_ start: SourceLocation) throws -> Double {
    var s = ""
    while let d = peek(), d.isNumber || d == "_" { s.append(advance()) }
    if peek() == ".", let n = peek(1), n.isNumber {
      s.append(advance())
      while let d = peek(), d.isNumber || d == "_" { s.append(advance()) }
    }
    if let e = peek(), e == "e" || e == "E", let n = peek(1),
      n.isNumber || ((n == "-" || n == "+") && (peek(2)?.isNumber ?? false))
    {
      s.append(advance())
      s.append(advance())
      while let d = peek(), d.isNumber { s.append(advance()) }
    }
    guard let v = Double(s.replacingOccurrences(of: "_", with: "")) else {
      throw ScriptError(.scan, "malformed number '\(s)'", at: start)
    }
    return v
  }

  mutating func string(_ start: SourceLocation) throws -> [StringPiece] {
    _ = advance()  // opening quote
    var pieces: [StringPiece] = []
    var text = ""
    while true {
      guard let c = peek(), c != "\n" else {
        throw ScriptError(.scan, "unterminated string", at: start)
      }
      _ = advance()
      if c == "\"" { break }
      if c == "\\" {
        guard let e = peek() else { throw ScriptError(.scan, "unterminated string", at: start) }
        _ = advance()
        switch e {
        case "n": text.append("\n")
        case "t": text.append("\t")
        case "\"", "\\", "{", "}": text.append(e)
        default: throw ScriptError(.scan, "unknown escape '\\\(e)' in string", at: start)
        }
      } else if c == "{" {
        if !text.isEmpty {
          pieces.append(.text(text))
          text = ""
        }
        let at = here
        var depth = 1, code = ""
        while true {
          guard let d = peek(), d != "\n" else {
            throw ScriptError(.scan, "unterminated '{' in string", at: at)
          }
          _ = advance()
          if d == "{" {
            depth += 1
          } else if d == "}" {
            depth -= 1
            if depth == 0 { break }
          }
          code.append(d)
        }
        pieces.append(.code(code, at))
      } else {
        text.append(c)
      }
    }
    if !text.isEmpty || pieces.isEmpty { pieces.append(.text(text)) }
    return pieces
  }
}
