/// A lexical token.
public struct Token: Sendable, Equatable {
  /// Token kinds.
  public enum Kind: Sendable, Equatable {
    case number(Double)
    /// A string literal: literal pieces and interpolated source snippets, in order.
    case string([StringPiece])
    case identifier(String)
    case keyword(String)
    case symbol(Symbol)
    case newline
    case eof
  }

  /// The kind.
  public let kind: Kind
  /// Where it starts.
  public let location: SourceLocation
  /// Whether whitespace (or a line start) came right before it: `f(x)` is a call, `f (x)` a command
  /// with a parenthesized argument.
  public let spaceBefore: Bool
}

/// One piece of a string literal.
public enum StringPiece: Sendable, Equatable {
  /// Literal text.
  case text(String)
  /// `{expr}`: the expression's source and where it starts.
  case code(String, SourceLocation)
}

/// The reserved words.
let keywords: Set<String> = [
  "if", "else", "for", "in", "while", "proc", "return", "break", "continue", "and", "or", "not",
  "true", "false", "nil", "source",
]

/// The language's punctuation and operators, as the scanner reads them (longest match first).
public enum Symbol: String, CaseIterable, Sendable {
  /// `+`: addition.
  case plus = "+"
  /// `-`: subtraction and negation.
  case minus = "-"
  /// `*`: multiplication.
  case star = "*"
  /// `/`: division.
  case slash = "/"
  /// `%`: remainder.
  case percent = "%"
  /// `^`: power.
  case caret = "^"
  /// `<`: less than.
  case less = "<"
  /// `>`: greater than.
  case greater = ">"
  /// `=`: assignment.
  case assign = "="
  /// `(`: opens a group, call or parameter list.
  case leftParen = "("
  /// `)`: closes it.
  case rightParen = ")"
  /// `[`: opens a list or an index.
  case leftBracket = "["
  /// `]`: closes it.
  case rightBracket = "]"
  /// `{`: opens a block or a record.
  case leftBrace = "{"
  /// `}`: closes it.
  case rightBrace = "}"
  /// `,`: separates items.
  case comma = ","
  /// `:`: separates an option or field from its value.
  case colon = ":"
  /// `;`: ends a statement (and hides its value).
  case semicolon = ";"
  /// `.`: field access.
  case dot = "."
  /// `!`: (only in '!=').
  case bang = "!"
  /// `==`: equal.
  case equal = "=="
  /// `!=`: not equal.
  case notEqual = "!="
  /// `<=`: at most.
  case lessEqual = "<="
  /// `>=`: at least.
  case greaterEqual = ">="
  /// `..`: an inclusive range.
  case range = ".."
  /// `+=`: add and assign.
  case plusAssign = "+="
  /// `-=`: subtract and assign.
  case minusAssign = "-="
  /// `...`: (reserved).
  case ellipsis = "..."

  /// The comparison operators (they do not chain).
  static let comparisons: [Symbol] = [
    .equal, .notEqual, .less, .lessEqual, .greater, .greaterEqual,
  ]
}
