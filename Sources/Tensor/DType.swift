/// The element type of a tensor: float32 for real work, float64 for exact gradient checks and
/// parity.
public enum DType: String, Sendable, CustomStringConvertible {
  case float32, float64

  /// Bytes per element.
  public var size: Int { self == .float32 ? 4 : 8 }
  /// The kernels for this element type.
  var kernels: any Scalar.Type { self == .float32 ? Float.self : Double.self }
  /// The short name, as PyTorch prints it.
  public var description: String { rawValue }
}
