/// Recursive-descent parser: tokens -> statements. Grammar (see docs/LANGUAGE.md):
///
///     program    := { statement (NEWLINE | ";") }
///     statement  := if | for | while | proc | return | break | continue | source STRING
///                 | lvalue ("=" | "+=" | "-=") callOrExpr | callOrExpr
///     callOrExpr := NAME arg { [","] arg }          (command style, args on the same line)
///                 | expr
/// arg        := NAME ":" expr | expr expr       := or ;  or := and {"or" and} ;  and := not {"and"
/// not} ;  not := "not" not | cmp cmp        := range [("=="|"!="|"<"|"<="|">"|">=") range] ;
/// range := sum [".." sum] sum        := product {("+"|"-") product} ;  product := unary
/// {("*"|"/"|"%") unary} unary      := "-" unary | power ;  power := postfix ["^" unary] postfix
/// := primary { "(" args ")" | "[" expr "]" | "." NAME } primary    := NUMBER | STRING | true |
/// false | nil | NAME | "(" expr ")" | "[" … "]" | "{" NAME ":" expr … "}"
public struct Parser {
  var tokens: [Token]
  var i = 0
  /// Depth of (), [] and record braces: newlines inside are skipped.
  var nesting = 0
  let file: String
  /// The stack left to this thread (sub-parsers of `{…}` share their parent's).
  var stack = StackGuard()

  /// Parses `source` (named `file` in errors).
  public static func parse(_ source: String, file: String) throws -> [Stmt] {
    var scanner = Scanner(source, file: file)
    var p = Parser(tokens: try scanner.tokens(), file: file)
    return try p.program()
  }

  init(tokens: [Token], file: String) {
    self.tokens = tokens
    self.file = file
  }

  // MARK: tokens

  var current: Token { tokens[i] }
  var next: Token { tokens[min(i + 1, tokens.count - 1)] }

  mutating func advance() -> Token {
    let t = tokens[i]
    if i < tokens.count - 1 { i += 1 }
    if nesting > 0 { while case .newline = tokens[i].kind, i < tokens.count - 1 { i += 1 } }
    return t
  }

  func isSymbol(_ s: Symbol) -> Bool {
    if case .symbol(s) = current.kind { return true }
    return false
  }
  func isKeyword(_ s: String) -> Bool {
    if case .keyword(s) = current.kind { return true }
    return false
  }
  var atEnd: Bool {
    if case .eof = current.kind { return true }
    return false
  }
  var atNewline: Bool {
    if case .newline = current.kind { return true }
    return false
  }

  func error(_ m: String, at t: Token? = nil) -> ScriptError {
    let tok = t ?? current
    if case .eof = tok.kind {
      var e = ScriptError(.parse, m + " (unexpected end of input)", at: tok.location)
      e.atEndOfInput = true
      return e
    }
    return ScriptError(.parse, m, at: tok.location)
  }

  mutating func expect(_ s: Symbol, _ what: String) throws -> Token {
    guard isSymbol(s) else {
      throw error("expected '\(s.rawValue)' \(what), found \(describe(current))")
    }
    return advance()
  }

  func describe(_ t: Token) -> String {
    switch t.kind {
    case .number(let n): return "number \(n)"
    case .string: return "a string"
    case .identifier(let s): return "'\(s)'"
    case .keyword(let s): return "'\(s)'"
    case .symbol(let s): return "'\(s.rawValue)'"
    case .newline: return "end of line"
    case .eof: return "end of input"
    }
  }

  mutating func skipNewlines() { while atNewline || isSymbol(.semicolon) { _ = advance() } }

  // MARK: statements

  mutating func program() throws -> [Stmt] {
    var out: [Stmt] = []
    skipNewlines()
    while !atEnd {
      out.append(try statement())
      try endOfStatement(&out)
    }
    return out
  }

  /// After a statement: a newline, ';' (which hides the value), '}' or the end.
  mutating func endOfStatement(_ out: inout [Stmt]) throws {
    if isSymbol(.semicolon) {
      if case .expression(let e, _, let l)? = out.last {
        out[out.count - 1] = .expression(e, hidden: true, l)
      }
      _ = advance()
    } else if !atNewline && !atEnd && !isSymbol(.rightBrace) {
      throw error("expected the end of the statement, found \(describe(current))")
    }
    skipNewlines()
  }

  mutating func block() throws -> [Stmt] { try deeper("blocks") { try $0.blockBody() } }

  mutating func blockBody() throws -> [Stmt] {
    let open = try expect(.leftBrace, "to open a block")
    var out: [Stmt] = []
    skipNewlines()
    while !isSymbol(.rightBrace) {
      if atEnd { throw error("'{' at \(open.location) is never closed") }
      out.append(try statement())
      try endOfStatement(&out)
    }
    _ = advance()
    return out
  }

  mutating func statement() throws -> Stmt {
    let start = current
    let loc = start.location
    if case .keyword(let k) = start.kind {
      switch k {
      case "if": return try ifStatement()
      case "for":
        _ = advance()
        guard case .identifier(let name) = current.kind else {
          throw error("expected a loop variable after 'for'")
        }
        _ = advance()
        guard isKeyword("in") else { throw error("expected 'in' after 'for \(name)'") }
        _ = advance()
        let seq = try expression()
        return .forIn(name, seq, try block(), loc)
      case "while":
        _ = advance()
        let cond = try expression()
        return .whileLoop(cond, try block(), loc)
      case "proc": return try procedure()
      case "return":
        _ = advance()
        if atNewline || atEnd || isSymbol(.rightBrace) || isSymbol(.semicolon) {
          return .returnValue(nil, loc)
        }
        return .returnValue(try callOrExpression(), loc)
      case "break":
        _ = advance()
        return .breakLoop(loc)
      case "continue":
        _ = advance()
        return .continueLoop(loc)
      case "source":
        _ = advance()
        return .source(try expression(), loc)
      default: break
      }
    }
    if case .identifier = start.kind, startsCommandArguments(after: i) {
      return .expression(try commandCall(), hidden: false, loc)
    }
    let e = try expression()
    for op in [Symbol.assign, .plusAssign, .minusAssign] where isSymbol(op) {
      switch e {
      case .variable, .field, .index: break
      default: throw error("cannot assign to this expression", at: start)
      }
      _ = advance()
      let value = try callOrExpression()
      if op == .assign { return .assign(e, value, loc) }
      return .assign(e, .binary(op == .plusAssign ? "+" : "-", e, value, loc), loc)
    }
    return .expression(e, hidden: false, loc)
  }

  /// Whether the identifier at `index` is followed, on the same line, by something that starts a
  /// command-style argument.
  func startsCommandArguments(after index: Int) -> Bool {
    guard nesting == 0, index + 1 < tokens.count else { return false }
    let t = tokens[index + 1]
    switch t.kind {
    case .number, .string: return true
    case .identifier: return true
    case .keyword(let k): return ["true", "false", "nil", "not"].contains(k)
    case .symbol(let s):
      if s == .leftBracket || s == .leftParen { return t.spaceBefore }
      if s == .leftBrace { return true }
      if s == .minus {
        return t.spaceBefore && index + 2 < tokens.count && !tokens[index + 2].spaceBefore
      }
      return false
    default: return false
    }
  }

  mutating func callOrExpression() throws -> Expr {
    if case .identifier = current.kind, startsCommandArguments(after: i) {
      return try commandCall()
    }
    return try expression()
  }

  /// NAME arg { [","] arg } up to the end of the line.
  mutating func commandCall() throws -> Expr {
    let nameTok = advance()
    guard case .identifier(let name) = nameTok.kind else { throw error("expected a command name") }
    var args: [Argument] = []
    while !atNewline && !atEnd && !isSymbol(.semicolon) && !isSymbol(.rightBrace) {
      if isSymbol(.comma) {
        _ = advance()
        continue
      }
      args.append(try argument())
    }
    return .call(name, args, nameTok.location)
  }

  mutating func argument() throws -> Argument {
    let loc = current.location
    if case .identifier(let n) = current.kind, case .symbol(.colon) = next.kind {
      _ = advance()
      _ = advance()
      return Argument(name: n, value: try expression(), location: loc)
    }
    return Argument(name: nil, value: try expression(), location: loc)
  }

  mutating func ifStatement() throws -> Stmt {
    let loc = advance().location
    var branches: [(Expr, [Stmt])] = [(try expression(), try block())]
    var otherwise: [Stmt]? = nil
    while true {
      // `else` may follow the closing brace on the next line.
      var j = i
      while case .newline = tokens[j].kind, j < tokens.count - 1 { j += 1 }
      guard case .keyword("else") = tokens[j].kind else { break }
      i = j
      _ = advance()
      if isKeyword("if") {
        _ = advance()
        branches.append((try expression(), try block()))
      } else {
        otherwise = try block()
        break
      }
    }
    return .conditional(branches, otherwise, loc)
  }

  mutating func procedure() throws -> Stmt {
    let loc = advance().location
    guard case .identifier(let name) = current.kind else {
      throw error("expected a procedure name after 'proc'")
    }
    _ = advance()
    _ = try expect(.leftParen, "after the procedure name")
    nesting += 1
    var params: [(String, Expr?)] = []
    while !isSymbol(.rightParen) {
      guard case .identifier(let p) = current.kind else {
        nesting -= 1
        throw error("expected a parameter name")
      }
      _ = advance()
      var def: Expr? = nil
      if isSymbol(.colon) {
        _ = advance()
        def = try expression()
      }
      if params.contains(where: { $0.0 == p }) {
        nesting -= 1
        throw error("parameter '\(p)' appears twice")
      }
      params.append((p, def))
      if isSymbol(.comma) {
        _ = advance()
      } else if !isSymbol(.rightParen) {
        nesting -= 1
        throw error("expected ',' or ')' in the parameter list")
      }
    }
    nesting -= 1
    _ = advance()
    return .procedure(name, params, try block(), loc)
  }

  // MARK: expressions

  /// Current depth of nested expressions and blocks (a limit keeps the recursion off the stack's
  /// end).
  var depth = 0
  /// The most levels of nesting.
  static let maxDepth = 200

  /// Runs `body` one level deeper; past `maxDepth` levels of `what` it is a parse error.
  mutating func deeper<T>(_ what: String, _ body: (inout Parser) throws -> T) throws -> T {
    depth += 1
    defer { depth -= 1 }
    if depth > Self.maxDepth {
      throw error("\(what) nested too deeply (more than \(Self.maxDepth) levels)")
    }
    if stack.exhausted() { throw error("\(what) nested too deeply for this thread's stack") }
    return try body(&self)
  }

  mutating func expression() throws -> Expr { try deeper("expression") { try $0.orExpr() } }

  /// One more link of a left-associative chain (`a + b + c`, `x[0][1]`, `x.a.b`): its tree, and
  /// the evaluation and freeing that walk it, are one level deeper. The caller restores `depth`
  /// when the chain ends.
  mutating func link() throws {
    depth += 1
    if depth > Self.maxDepth {
      throw error("expression nested too deeply (more than \(Self.maxDepth) levels)")
    }
  }

  mutating func orExpr() throws -> Expr {
    let outer = depth
    defer { depth = outer }
    var e = try andExpr()
    while isKeyword("or") {
      let l = advance().location
      try link()
      e = .binary("or", e, try andExpr(), l)
    }
    return e
  }

  mutating func andExpr() throws -> Expr {
    let outer = depth
    defer { depth = outer }
    var e = try notExpr()
    while isKeyword("and") {
      let l = advance().location
      try link()
      e = .binary("and", e, try notExpr(), l)
    }
    return e
  }

  mutating func notExpr() throws -> Expr {
    if isKeyword("not") {
      let l = advance().location
      return .unary("not", try deeper("expression") { try $0.notExpr() }, l)
    }
    return try comparison()
  }

  mutating func comparison() throws -> Expr {
    let e = try rangeExpr()
    for op in Symbol.comparisons where isSymbol(op) {
      let l = advance().location
      let rhs = try rangeExpr()
      for op2 in Symbol.comparisons where isSymbol(op2) {
        throw error("comparisons do not chain; use 'and'")
      }
      return .binary(op.rawValue, e, rhs, l)
    }
    return e
  }

  mutating func rangeExpr() throws -> Expr {
    let e = try sum()
    if isSymbol(.range) {
      let l = advance().location
      return .range(e, try sum(), l)
    }
    return e
  }

  mutating func sum() throws -> Expr {
    let outer = depth
    defer { depth = outer }
    var e = try product()
    while isSymbol(.plus) || isSymbol(.minus) {
      let t = advance()
      guard case .symbol(let op) = t.kind else { break }
      try link()
      e = .binary(op.rawValue, e, try product(), t.location)
    }
    return e
  }

  mutating func product() throws -> Expr {
    let outer = depth
    defer { depth = outer }
    var e = try unary()
    while isSymbol(.star) || isSymbol(.slash) || isSymbol(.percent) {
      let t = advance()
      guard case .symbol(let op) = t.kind else { break }
      try link()
      e = .binary(op.rawValue, e, try unary(), t.location)
    }
    return e
  }

  mutating func unary() throws -> Expr {
    if isSymbol(.minus) {
      let l = advance().location
      return .unary("-", try deeper("expression") { try $0.unary() }, l)
    }
    return try power()
  }

  mutating func power() throws -> Expr {
    let base = try postfix()
    if isSymbol(.caret) {
      let l = advance().location
      return .binary("^", base, try deeper("expression") { try $0.unary() }, l)
    }
    return base
  }

  mutating func postfix() throws -> Expr {
    let outer = depth
    defer { depth = outer }
    var e = try primary()
    while true {
      if isSymbol(.leftParen) || isSymbol(.leftBracket) || isSymbol(.dot) { try link() }
      if isSymbol(.leftParen), !current.spaceBefore, case .variable(let name, let l) = e {
        e = .call(name, try callArguments(), l)
      } else if isSymbol(.leftBracket), !current.spaceBefore {
        let l = advance().location
        nesting += 1
        let idx = try expression()
        nesting -= 1
        _ = try expect(.rightBracket, "to close the index")
        e = .index(e, idx, l)
      } else if isSymbol(.dot) {
        let l = advance().location
        guard case .identifier(let f) = current.kind else {
          throw error("expected a field name after '.'")
        }
        _ = advance()
        e = .field(e, f, l)
      } else {
        return e
      }
    }
  }

  mutating func callArguments() throws -> [Argument] {
    nesting += 1
    _ = advance()  // (
    var args: [Argument] = []
    while !isSymbol(.rightParen) {
      if atEnd {
        nesting -= 1
        throw error("unclosed '(' in a call")
      }
      args.append(try argument())
      if isSymbol(.comma) {
        _ = advance()
      } else if !isSymbol(.rightParen) {
        nesting -= 1
        throw error("expected ',' or ')' in the arguments, found \(describe(current))")
      }
    }
    nesting -= 1
    _ = advance()
    return args
  }

  mutating func primary() throws -> Expr {
    let t = current
    switch t.kind {
    case .number(let n):
      _ = advance()
      return .number(n)
    case .string(let pieces):
      _ = advance()
      return .string(
        try pieces.map { piece in
          switch piece {
          case .text(let s): return .text(s)
          case .code(let code, let at):
            var sc = Scanner(code, file: file)
            sc.line = at.line
            sc.col = at.column
            var sub = Parser(tokens: try sc.tokens(), file: file)
            sub.nesting = 1
            sub.depth = depth  // a string's `{…}` nests inside the expression that holds it
            sub.stack = stack
            let e = try sub.expression()
            guard sub.atEnd else {
              throw sub.error("unexpected \(sub.describe(sub.current)) in '{…}' of a string")
            }
            return .expr(e)
          }
        })
    case .keyword("true"):
      _ = advance()
      return .bool(true)
    case .keyword("false"):
      _ = advance()
      return .bool(false)
    case .keyword("nil"):
      _ = advance()
      return .nilValue
    case .identifier(let name):
      _ = advance()
      return .variable(name, t.location)
    case .symbol(.leftParen):
      nesting += 1
      _ = advance()
      let e = try expression()
      nesting -= 1
      _ = try expect(.rightParen, "to close '('")
      return e
    case .symbol(.leftBracket):
      nesting += 1
      _ = advance()
      var items: [Expr] = []
      while !isSymbol(.rightBracket) {
        if atEnd {
          nesting -= 1
          throw error("'[' at \(t.location) is never closed")
        }
        items.append(try expression())
        if isSymbol(.comma) {
          _ = advance()
        } else if !isSymbol(.rightBracket) {
          nesting -= 1
          throw error("expected ',' or ']' in the list, found \(describe(current))")
        }
      }
      nesting -= 1
      _ = advance()
      return .list(items)
    case .symbol(.leftBrace):
      nesting += 1
      _ = advance()
      var fields: [(String, Expr)] = []
      while !isSymbol(.rightBrace) {
        if atEnd {
          nesting -= 1
          throw error("'{' at \(t.location) is never closed")
        }
        let key: String
        switch current.kind {
        case .identifier(let k): key = k
        case .string(let p):
          if case .text(let k)? = p.first, p.count == 1 { key = k } else { fallthrough }
        default:
          nesting -= 1
          throw error("expected a field name in the record, found \(describe(current))")
        }
        _ = advance()
        _ = try expect(.colon, "after the field name")
        fields.append((key, try expression()))
        if isSymbol(.comma) {
          _ = advance()
        } else if !isSymbol(.rightBrace) {
          nesting -= 1
          throw error("expected ',' or '}' in the record, found \(describe(current))")
        }
      }
      nesting -= 1
      _ = advance()
      return .record(fields)
    default:
      throw error("expected a value, found \(describe(t))")
    }
  }
}
