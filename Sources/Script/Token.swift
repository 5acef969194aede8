/// A lexical token.
public struct Token: Sendable, Equatable {
  /// Token kinds.
  public enum Kind: Sendable, Equatable {
    case number(Double)
    /// A string literal: literal pieces and interpolated source snippets, in order.
    case string([StringPiece])
    case identifier(String)
    case keyword(String)
    case symbol(String)
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
