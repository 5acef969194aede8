/// An expression.
public indirect enum Expr: Sendable {
  case number(Double)
  /// A string literal with interpolated expressions.
  case string([StringPart])
  case bool(Bool)
  case nilValue
  case list([Expr])
  /// A record literal {key: value, …}.
  case record([(String, Expr)])
  case variable(String, SourceLocation)
  case unary(String, Expr, SourceLocation)
  case binary(String, Expr, Expr, SourceLocation)
  /// `a..b`, inclusive.
  case range(Expr, Expr, SourceLocation)
  /// A call of a command or procedure: `name(args)` or command style `name arg key: value`.
  case call(String, [Argument], SourceLocation)
  case index(Expr, Expr, SourceLocation)
  case field(Expr, String, SourceLocation)
}

/// A piece of a string literal after parsing.
public enum StringPart: Sendable {
  case text(String)
  case expr(Expr)
}

/// A call argument, positional (`name == nil`) or named.
public struct Argument: Sendable {
  /// The option name, for `name: value`.
  public let name: String?
  /// The value.
  public let value: Expr
  /// Where it starts.
  public let location: SourceLocation
}

/// A statement.
public indirect enum Stmt: Sendable {
  /// An expression (its value is shown unless `hidden`).
  case expression(Expr, hidden: Bool, SourceLocation)
  /// `target = value` (also `+=`, `-=` desugared); target is a variable, field or index expression.
  case assign(Expr, Expr, SourceLocation)
  /// if / else if / else.
  case conditional([(Expr, [Stmt])], [Stmt]?, SourceLocation)
  case forIn(String, Expr, [Stmt], SourceLocation)
  case whileLoop(Expr, [Stmt], SourceLocation)
  /// `proc name(params) { body }`; a parameter may have a default.
  case procedure(String, [(String, Expr?)], [Stmt], SourceLocation)
  case returnValue(Expr?, SourceLocation)
  case breakLoop(SourceLocation)
  case continueLoop(SourceLocation)
  /// `source "file"`.
  case source(Expr, SourceLocation)
}

extension Expr {
  /// Where the expression starts, where known.
  var location: SourceLocation? {
    switch self {
    case .variable(_, let l), .unary(_, _, let l), .binary(_, _, _, let l), .range(_, _, let l),
      .call(_, _, let l),
      .index(_, _, let l), .field(_, _, let l):
      return l
    default: return nil
    }
  }
}
