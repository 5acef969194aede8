import Glibc
import Synchronization

/// Where a step's time goes, by kind of work: the kernels time themselves into these counters
/// while profiling is on (`svfap bench model --profile`); off, a kernel pays one atomic load.
public enum Profile {
  /// A kind of work.
  public enum Kind: Int, CaseIterable, Sendable {
    /// Matrix products (BLAS gemm: linear layers; attention's own are under `attention`).
    case matmul
    /// Softmax forward and backward outside attention (cross-entropy, a plain softmax).
    case softmax
    /// LayerNorm forward and backward.
    case norm
    /// Element-wise maps with broadcasting (add, multiply, GELU, affine…).
    case elementwise
    /// Sums over an axis (bias gradients, means, losses).
    case reduction
    /// Layout copies (permute, concat, slice, gather/scatter of tokens).
    case copies
    /// A model's target computation (what it labels as such).
    case target
    /// The optimizer's update.
    case optimizer
    /// Fused multi-head attention, forward and backward (its products and softmax included).
    case attention

    /// The name in reports.
    public var name: String {
      [
        "matmul", "softmax", "norm", "elementwise", "reduction", "copies", "target", "optimizer",
        "attention",
      ][rawValue]
    }
  }

  private static let on = Atomic<Bool>(false)
  private static let nanoseconds = Mutex([Int](repeating: 0, count: Kind.allCases.count))

  /// Starts counting from zero.
  public static func start() {
    nanoseconds.withLock { $0 = [Int](repeating: 0, count: Kind.allCases.count) }
    on.store(true, ordering: .relaxed)
  }

  /// Stops counting for a while, keeping the counts (`resume` goes on).
  public static func pause() { on.store(false, ordering: .relaxed) }

  /// Goes on counting after `pause`.
  public static func resume() { on.store(true, ordering: .relaxed) }

  /// Stops counting; returns seconds per kind.
  @discardableResult
  public static func stop() -> [Kind: Double] {
    on.store(false, ordering: .relaxed)
    let counts = nanoseconds.withLock { $0 }
    var out: [Kind: Double] = [:]
    for k in Kind.allCases { out[k] = Double(counts[k.rawValue]) / 1e9 }
    return out
  }

  /// The threads whose work counts (a thread-specific mark): the profiled run's own, so that work
  /// other code does at the same time in this process (another session, a concurrent test) is not
  /// counted as the run's.
  private static let profiledKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key, nil)
    return key
  }()

  /// Counts the calling thread's work while profiling is on, until `leaveProfile`.
  public static func joinProfile() {
    pthread_setspecific(profiledKey, UnsafeMutableRawPointer(bitPattern: 1))
  }

  /// Stops counting the calling thread's work.
  public static func leaveProfile() { pthread_setspecific(profiledKey, nil) }

  /// Runs `body`, counting its wall time under `kind` while profiling is on and the calling thread
  /// has joined the profile.
  @inline(__always)
  public static func measure<R>(_ kind: Kind, _ body: () throws -> R) rethrows -> R {
    guard on.load(ordering: .relaxed), pthread_getspecific(profiledKey) != nil else {
      return try body()
    }
    let t0 = monotonicSeconds()
    defer {
      let ns = Int((monotonicSeconds() - t0) * 1e9)
      nanoseconds.withLock { $0[kind.rawValue] += ns }
    }
    return try body()
  }
}

/// The kernels of a runtime dtype, each timed into `Profile` under its kind.
struct KernelDispatch {
  let s: any Scalar.Type

  func gemm(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Double,
    a: UnsafeRawPointer, lda: Int, b: UnsafeRawPointer, ldb: Int, beta: Double,
    c: UnsafeMutableRawPointer, ldc: Int
  ) {
    Profile.measure(.matmul) {
      s.gemm(
        transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b,
        ldb: ldb, beta: beta, c: c, ldc: ldc)
    }
  }
  func unary(_ op: UnaryOp, _ x: UnsafeRawPointer, _ y: UnsafeMutableRawPointer, _ n: Int) {
    Profile.measure(.elementwise) { s.unary(op, x, y, n) }
  }
  func unaryBackward(
    _ op: UnaryOp, _ x: UnsafeRawPointer, _ y: UnsafeRawPointer, _ gy: UnsafeRawPointer,
    _ gx: UnsafeMutableRawPointer, _ n: Int
  ) {
    Profile.measure(.elementwise) { s.unaryBackward(op, x, y, gy, gx, n) }
  }
  func layerNormForward(
    _ x: UnsafeRawPointer, _ w: UnsafeRawPointer, _ b: UnsafeRawPointer,
    _ y: UnsafeMutableRawPointer, _ mean: UnsafeMutableRawPointer,
    _ rstd: UnsafeMutableRawPointer, rows: Int, cols: Int, eps: Double
  ) {
    Profile.measure(.norm) {
      s.layerNormForward(x, w, b, y, mean, rstd, rows: rows, cols: cols, eps: eps)
    }
  }
  func layerNormBackward(
    _ gy: UnsafeRawPointer, _ x: UnsafeRawPointer, _ w: UnsafeRawPointer,
    _ mean: UnsafeRawPointer, _ rstd: UnsafeRawPointer, _ gx: UnsafeMutableRawPointer,
    _ gw: UnsafeMutableRawPointer, _ gb: UnsafeMutableRawPointer, rows: Int, cols: Int
  ) {
    Profile.measure(.norm) {
      s.layerNormBackward(gy, x, w, mean, rstd, gx, gw, gb, rows: rows, cols: cols)
    }
  }
  func softmaxForward(
    _ x: UnsafeRawPointer, _ y: UnsafeMutableRawPointer, rows: Int, cols: Int, scale: Double
  ) {
    Profile.measure(.softmax) { s.softmaxForward(x, y, rows: rows, cols: cols, scale: scale) }
  }
  func softmaxBackward(
    _ y: UnsafeRawPointer, _ gy: UnsafeRawPointer, _ gx: UnsafeMutableRawPointer, rows: Int,
    cols: Int, scale: Double
  ) {
    Profile.measure(.softmax) {
      s.softmaxBackward(y, gy, gx, rows: rows, cols: cols, scale: scale)
    }
  }
  func binary(
    _ op: BinaryOp, _ a: UnsafeRawPointer, _ aStrides: [Int], _ b: UnsafeRawPointer,
    _ bStrides: [Int], _ out: UnsafeMutableRawPointer, _ shape: [Int]
  ) {
    Profile.measure(.elementwise) { s.binary(op, a, aStrides, b, bStrides, out, shape) }
  }
  func sumAxis(
    _ x: UnsafeRawPointer, _ y: UnsafeMutableRawPointer, outer: Int, n: Int, inner: Int
  ) {
    Profile.measure(.reduction) { s.sumAxis(x, y, outer: outer, n: n, inner: inner) }
  }
  func affine(_ x: UnsafeRawPointer, _ y: UnsafeMutableRawPointer, _ n: Int, a: Double, b: Double) {
    Profile.measure(.elementwise) { s.affine(x, y, n, a: a, b: b) }
  }
  func squaredDistance(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ n: Int) -> Double {
    Profile.measure(.elementwise) { s.squaredDistance(a, b, n) }
  }
  func sumOfSquares(_ a: UnsafeRawPointer, _ n: Int) -> Double {
    Profile.measure(.reduction) { s.sumOfSquares(a, n) }
  }
  func scaledDifference(
    _ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ out: UnsafeMutableRawPointer, _ n: Int,
    scale: Double
  ) {
    Profile.measure(.elementwise) { s.scaledDifference(a, b, out, n, scale: scale) }
  }
  func load(_ p: UnsafeRawPointer, _ i: Int) -> Double { s.load(p, i) }
  func store(_ p: UnsafeMutableRawPointer, _ i: Int, _ v: Double) { s.store(p, i, v) }
  func countNonFinite(_ p: UnsafeRawPointer, _ n: Int) -> Int { s.countNonFinite(p, n) }
}
