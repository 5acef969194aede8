import COpenBLAS
import RealModule

/// Element-wise binary operations with broadcasting.
public enum BinaryOp: Sendable { case add, sub, mul, div }

/// Element-wise unary operations with a backward rule.
public enum UnaryOp: String, Sendable {
  case neg, exp, log, sigmoid, tanh, relu, gelu, square, sqrt
}

/// The kernels of one element type. Pointers are raw so that an op can call the kernels of a
/// runtime dtype (`dtype.kernels`) without generics at the call site; each kernel is written once
/// generically below and `Float` overrides the hot ones with SIMD code (FloatKernels.swift).
package protocol Scalar: BinaryFloatingPoint, Real {
  /// The dtype tag.
  static var dtype: DType { get }
  /// C = alpha * op(A) * op(B) + beta * C, row-major.
  static func gemm(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Double,
    a: UnsafeRawPointer, lda: Int, b: UnsafeRawPointer, ldb: Int, beta: Double,
    c: UnsafeMutableRawPointer, ldc: Int)
  /// y[i] = f(x[i]).
  static func unary(_ op: UnaryOp, _ x: UnsafeRawPointer, _ y: UnsafeMutableRawPointer, _ n: Int)
  /// gx[i] = gy[i] * f'(x[i]) (y = f(x) is given as well).
  static func unaryBackward(
    _ op: UnaryOp, _ x: UnsafeRawPointer, _ y: UnsafeRawPointer, _ gy: UnsafeRawPointer,
    _ gx: UnsafeMutableRawPointer, _ n: Int)
  /// LayerNorm over rows of `cols`: y = (x - mean) * rstd * w + b; saves mean and rstd per row.
  static func layerNormForward(
    _ x: UnsafeRawPointer, _ w: UnsafeRawPointer, _ b: UnsafeRawPointer,
    _ y: UnsafeMutableRawPointer,
    _ mean: UnsafeMutableRawPointer, _ rstd: UnsafeMutableRawPointer, rows: Int, cols: Int,
    eps: Double)
  /// LayerNorm backward: writes gx, and adds into gw and gb.
  static func layerNormBackward(
    _ gy: UnsafeRawPointer, _ x: UnsafeRawPointer, _ w: UnsafeRawPointer, _ mean: UnsafeRawPointer,
    _ rstd: UnsafeRawPointer, _ gx: UnsafeMutableRawPointer, _ gw: UnsafeMutableRawPointer,
    _ gb: UnsafeMutableRawPointer, rows: Int, cols: Int)
  /// y = softmax(scale * x) over rows of `cols`.
  static func softmaxForward(
    _ x: UnsafeRawPointer, _ y: UnsafeMutableRawPointer, rows: Int, cols: Int, scale: Double)
  /// gx = scale * y * (gy - sum(gy * y)) per row.
  static func softmaxBackward(
    _ y: UnsafeRawPointer, _ gy: UnsafeRawPointer, _ gx: UnsafeMutableRawPointer, rows: Int,
    cols: Int,
    scale: Double)
  /// out = a (op) b with broadcasting: `shape` is the output shape, strides are 0 on broadcast
  /// axes.
  static func binary(
    _ op: BinaryOp, _ a: UnsafeRawPointer, _ aStrides: [Int], _ b: UnsafeRawPointer,
    _ bStrides: [Int],
    _ out: UnsafeMutableRawPointer, _ shape: [Int])
  /// y[o, i] = sum over j of x[o, j, i] for x of shape (outer, n, inner).
  static func sumAxis(
    _ x: UnsafeRawPointer, _ y: UnsafeMutableRawPointer, outer: Int, n: Int, inner: Int)
  /// y[i] = a * x[i] + b.
  static func affine(
    _ x: UnsafeRawPointer, _ y: UnsafeMutableRawPointer, _ n: Int, a: Double, b: Double)
  /// Σ (a[i] − b[i])² over n elements, summed in Double (the mean squared error's forward).
  static func squaredDistance(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ n: Int) -> Double
  /// Σ a[i]² over n elements, summed in Double (a gradient's squared norm).
  static func sumOfSquares(_ a: UnsafeRawPointer, _ n: Int) -> Double
  /// out[i] = scale · (a[i] − b[i]) (the mean squared error's backward).
  static func scaledDifference(
    _ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ out: UnsafeMutableRawPointer, _ n: Int,
    scale: Double)
  /// Reads element i as Double.
  static func load(_ p: UnsafeRawPointer, _ i: Int) -> Double
  /// Writes element i from a Double.
  static func store(_ p: UnsafeMutableRawPointer, _ i: Int, _ v: Double)
  /// Number of NaN or infinite elements.
  static func countNonFinite(_ p: UnsafeRawPointer, _ n: Int) -> Int
}

extension Float: Scalar {
  package static var dtype: DType { .float32 }
  package static func gemm(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Double,
    a: UnsafeRawPointer, lda: Int, b: UnsafeRawPointer, ldb: Int, beta: Double,
    c: UnsafeMutableRawPointer, ldc: Int
  ) {
    GemmLog.note(
      m: m, n: n, k: k, transA: transA, transB: transB, lda: lda, ldb: ldb, ldc: ldc, beta: beta)
    cblas_sgemm(
      CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
      Int32(m), Int32(n), Int32(k), Float(alpha), a.assumingMemoryBound(to: Float.self), Int32(lda),
      b.assumingMemoryBound(to: Float.self), Int32(ldb), Float(beta),
      c.assumingMemoryBound(to: Float.self), Int32(ldc))
  }
}

extension Double: Scalar {
  package static var dtype: DType { .float64 }
  package static func gemm(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Double,
    a: UnsafeRawPointer, lda: Int, b: UnsafeRawPointer, ldb: Int, beta: Double,
    c: UnsafeMutableRawPointer, ldc: Int
  ) {
    cblas_dgemm(
      CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
      Int32(m), Int32(n), Int32(k), alpha, a.assumingMemoryBound(to: Double.self), Int32(lda),
      b.assumingMemoryBound(to: Double.self), Int32(ldb), beta,
      c.assumingMemoryBound(to: Double.self), Int32(ldc))
  }
}
