/// An error raised by a tensor operation: it names the op and the shapes involved.
public enum TensorError: Error, CustomStringConvertible, Equatable {
  /// Two operands whose shapes do not fit together.
  case shapeMismatch(op: String, lhs: [Int], rhs: [Int])
  /// An argument that is invalid for the operand's shape.
  case invalidArgument(op: String, message: String)
  /// Operands of different element types.
  case dtypeMismatch(op: String, lhs: DType, rhs: DType)
  /// A tensor that holds NaN or infinity where finite values were required.
  case nonFinite(what: String, count: Int)
  /// Autograd misuse (backward from a non-scalar, no graph).
  case autograd(String)

  /// A human-readable message.
  public var description: String {
    switch self {
    case .shapeMismatch(let op, let a, let b): return "\(op): shapes \(a) and \(b) do not match"
    case .invalidArgument(let op, let m): return "\(op): \(m)"
    case .dtypeMismatch(let op, let a, let b): return "\(op): dtypes \(a) and \(b) differ"
    case .nonFinite(let what, let n): return "\(what): \(n) non-finite value(s) (NaN or Inf)"
    case .autograd(let m): return "autograd: \(m)"
    }
  }
}
