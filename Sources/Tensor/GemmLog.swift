import Glibc
import Synchronization

/// The gemm calls of a stretch of work, recorded while on: `bench model --profile` replays a
/// step's calls through raw sgemm to measure that step's own GEMM ceiling.
public enum GemmLog {
  /// One gemm call: C (m, n) = op(A) (m, k) · op(B) (k, n) + beta · C, with its leading dimensions.
  public struct Call: Hashable, Sendable {
    /// Rows of C.
    public let m: Int
    /// Columns of C.
    public let n: Int
    /// The inner dimension.
    public let k: Int
    /// Whether A is read transposed.
    public let transA: Bool
    /// Whether B is read transposed.
    public let transB: Bool
    /// Leading dimension of A as stored.
    public let lda: Int
    /// Leading dimension of B as stored.
    public let ldb: Int
    /// Leading dimension of C.
    public let ldc: Int
    /// Whether C was accumulated into (beta ≠ 0).
    public let accumulates: Bool
    /// Whether the call ran on one thread as one share of a parallel region (its siblings ran on
    /// the other threads at the same time).
    public let inShare: Bool
    /// Whether the call was one of the fused attention's products.
    public let inAttention: Bool

    /// Multiply-adds × 2.
    public var flops: Double { 2 * Double(m) * Double(n) * Double(k) }
  }

  private static let on = Atomic<Bool>(false)
  /// The thread-specific mark of attention work (non-nil while a thread runs it).
  private static let attentionKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key, nil)
    return key
  }()

  /// Runs `body` with the gemm calls the calling thread makes meanwhile marked as the attention's
  /// (each (clip, head) pair of the fused attention runs its products on one thread).
  @inline(__always)
  static func attention<R>(_ body: () throws -> R) rethrows -> R {
    let outer = pthread_getspecific(attentionKey)
    pthread_setspecific(attentionKey, UnsafeMutableRawPointer(bitPattern: 1))
    defer { pthread_setspecific(attentionKey, outer) }
    return try body()
  }
  private static let calls = Mutex<[Call]>([])

  /// Starts recording from an empty log.
  public static func start() {
    calls.withLock { $0 = [] }
    on.store(true, ordering: .relaxed)
  }

  /// Stops recording; returns the calls in the order they were made (shares interleaved) and
  /// empties the log.
  public static func stop() -> [Call] {
    on.store(false, ordering: .relaxed)
    return calls.withLock { log in
      defer { log = [] }
      return log
    }
  }

  /// Records one call while on (off: one atomic load).
  @inline(__always)
  static func note(
    m: Int, n: Int, k: Int, transA: Bool, transB: Bool, lda: Int, ldb: Int, ldc: Int, beta: Double
  ) {
    guard on.load(ordering: .relaxed) else { return }
    let call = Call(
      m: m, n: n, k: k, transA: transA, transB: transB, lda: lda, ldb: ldb, ldc: ldc,
      accumulates: beta != 0, inShare: ParallelRegion.isInside,
      inAttention: pthread_getspecific(attentionKey) != nil)
    calls.withLock { $0.append(call) }
  }
}
