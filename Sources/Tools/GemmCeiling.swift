import SVFAP
import Tensor

/// A step's own GEMM ceiling: the sgemm calls the step makes (shapes, transposes, leading
/// dimensions, accumulation) replayed through raw sgemm (`Float.gemm`), each as often as the step
/// makes it, on operands of its size — warm (cached operands: no step runs its products faster) and
/// cold (operands from memory, as a large model's weights come). `ceiling / step time` is the
/// step's share of sgemm's rate on the step's own shapes. Replayed between timed steps, it sees the
/// same machine as they do (a shared host's speed swings within seconds).
struct GemmCeiling {
  /// Each distinct call with how often one step makes it.
  let perStep: [(call: GemmLog.Call, count: Int)]
  /// Threads of the BLAS pool for calls made outside a parallel region.
  let threads: Int
  /// How many calls ran at once when a call ran on one thread (region shares, split members).
  let concurrent: Int
  /// Whether every call ran on one thread (split members with single-threaded kernels).
  let oneThreadEach: Bool
  /// Elements of the largest A, B and C among the calls.
  private let extents: (a: Int, b: Int, c: Int)
  /// Where the cold replay places each call's operands.
  private let coldArena: ColdOperands

  /// The ceiling of the calls recorded over `steps` steps (calls of concurrent members summed).
  init(_ calls: [GemmLog.Call], steps: Int, threads: Int, concurrent: Int, oneThreadEach: Bool) {
    var counts: [GemmLog.Call: Int] = [:]
    for call in calls { counts[call, default: 0] += 1 }
    perStep = counts.map { (call: $0.key, count: $0.value / max(steps, 1)) }
      .filter { $0.count > 0 }.sorted { $0.call.flops > $1.call.flops }
    (self.threads, self.concurrent, self.oneThreadEach) = (threads, concurrent, oneThreadEach)
    let operands = perStep.map(\.call.operands)
    extents = (
      operands.map(\.a).max() ?? 1, operands.map(\.b).max() ?? 1, operands.map(\.c).max() ?? 1
    )
    coldArena = ColdOperands(largest: extents.a + extents.b + extents.c)
  }

  /// Whether the cold replay's arena takes at most a quarter of `available` bytes (true when
  /// unknown): on a machine short of memory the benchmark reports no cold ceiling rather than
  /// risk the out-of-memory killer.
  func coldArenaFits(available: Double? = MemoryEstimate.availableBytes()) -> Bool {
    available.map { Double(coldArena.floats) * 4 <= $0 / 4 } ?? true
  }

  /// Multiply-adds × 2 of one step's calls.
  var flops: Double { perStep.reduce(0) { $0 + $1.call.flops * Double($1.count) } }

  /// One replay's milliseconds: all of a step's calls, and the fused attention's.
  struct Replay {
    /// Every call.
    var total = 0.0
    /// The attention's per-(clip, head) products.
    var attention = 0.0
  }

  /// Milliseconds raw sgemm takes for one step's calls: calls of the whole BLAS pool on `threads`
  /// threads, one-thread calls on one thread divided by `concurrent` (as if perfectly balanced).
  /// Warm: every call reuses one A, B and C (cached, as operands a step has just touched). `cold`:
  /// each call's operands lie where no recent call's did (`ColdOperands`), as a step's weights do
  /// when they do not fit in the last-level cache. A step's products run between the two.
  func replayMilliseconds(cold: Bool = false) -> Replay {
    let saved = Threads.count
    defer { Threads.count = saved }
    // Zero operands: sgemm's time does not depend on the values (no denormals; random operands
    // measured the same).
    var arena = coldArena
    let memory = Tensor.zeros([cold ? arena.floats : extents.a + extents.b + extents.c])
    var replay = Replay()
    for (call, count) in perStep {
      let alone = oneThreadEach || call.inShare
      Threads.count = alone ? 1 : threads
      let sizes = call.operands
      let t0 = monotonicSeconds()
      for _ in 0..<count {  // the log is off here: the replay is not recorded
        let at =
          cold
          ? arena.place(a: sizes.a, b: sizes.b, c: sizes.c)
          : (a: 0, b: extents.a, c: extents.a + extents.b)
        Float.gemm(
          transA: call.transA, transB: call.transB, m: call.m, n: call.n, k: call.k, alpha: 1,
          a: memory.raw + 4 * at.a, lda: call.lda, b: memory.raw + 4 * at.b, ldb: call.ldb,
          beta: call.accumulates ? 1 : 0, c: memory.raw + 4 * at.c, ldc: call.ldc)
      }
      let ms = (monotonicSeconds() - t0) * 1000 / Double(alone ? max(concurrent, 1) : 1)
      replay.total += ms
      if call.inAttention { replay.attention += ms }
    }
    return withExtendedLifetime(memory) { replay }
  }
}

extension GemmLog.Call {
  /// Elements of A, B and C as stored (rows × leading dimension).
  fileprivate var operands: (a: Int, b: Int, c: Int) {
    ((transA ? k : m) * lda, (transB ? n : k) * ldb, m * ldc)
  }
}
