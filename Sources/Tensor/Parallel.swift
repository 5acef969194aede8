import COpenBLAS
import Dispatch
import Glibc
import Synchronization

/// Thread settings shared by BLAS and the element-wise kernels.
public enum Threads {
  /// Atomic: sessions on other threads (tests, a kernel) set it while kernels read it.
  private static let _count = Atomic<Int>(1)

  /// Number of threads used by BLAS and by large element-wise kernels (default: 1 until set).
  public static var count: Int {
    get { _count.load(ordering: .relaxed) }
    set {
      let n = max(1, newValue)
      _count.store(n, ordering: .relaxed)
      svfap_flush_denormals()
      openblas_set_num_threads(Int32(n))
    }
  }

  /// Flushes denormals to zero on the calling thread (the engine's threads do it themselves).
  public static func flushDenormals() { svfap_flush_denormals() }

  /// Flushes denormals on this thread and restarts OpenBLAS's worker pool so its threads inherit it
  /// (they were created at library load) and sleep soon when idle (OPENBLAS_THREAD_TIMEOUT 16
  /// unless set: idle workers spinning for 0.1 s take the core our own threads need). Only at
  /// program start, before any BLAS call: a restart while another thread is inside BLAS can lose
  /// that call's work and hang it.
  public static func prepareBLASAtStart() { svfap_prepare_blas() }

  /// Number of processors online.
  public static var available: Int { ProcessInfoShim.activeProcessorCount }
}

/// Avoids importing Foundation into the engine for one number.
enum ProcessInfoShim {
  static var activeProcessorCount: Int { Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) }
}

/// Runs `body(start, end)` over `0..<n` split into `Threads.count` chunks when `n * costPerItem` is
/// large.
@inline(__always)
func parallelRange(_ n: Int, costPerItem: Int = 1, _ body: (Int, Int) -> Void) {
  let threads = Threads.count
  if threads <= 1 || n &* costPerItem < 32_768 || n < 2 || ParallelRegion.isInside {
    body(0, n)
    return
  }
  let chunks = min(threads, n)
  // The chunks write disjoint ranges: the kernel closure is shared across threads by contract.
  withoutActuallyEscaping(body) { kernel in
    let shared = UncheckedSendable(kernel)
    DispatchQueue.concurrentPerform(iterations: chunks) { c in
      svfap_flush_denormals()
      let start = n * c / chunks
      let end = n * (c + 1) / chunks
      if start < end { shared.value(start, end) }
    }
  }
}

/// A value handed to other threads under a contract the compiler cannot check (disjoint writes).
public struct UncheckedSendable<T>: @unchecked Sendable {
  /// The value.
  public let value: T
  /// Wraps `value`.
  public init(_ value: T) { self.value = value }
}

/// Marks the threads that run one share of `parallelUnits`: kernels they call stay on them.
enum ParallelRegion {
  /// The thread-specific flag (non-nil inside a share).
  static let key: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key, nil)
    return key
  }()

  /// Whether the calling thread runs one share of a parallel region.
  static var isInside: Bool { pthread_getspecific(key) != nil }

  /// Runs `body` with the calling thread marked as inside a share.
  static func inside(_ body: () -> Void) {
    let marker = UnsafeMutableRawPointer(bitPattern: 1)
    pthread_setspecific(key, marker)
    defer { pthread_setspecific(key, nil) }
    body()
  }
}

/// Runs `body(unit, share)` for every unit of `0..<units`: spread in contiguous shares over
/// `threads` threads (`share` = the thread's index, below `min(threads, units)`) with OpenBLAS
/// single-threaded inside, or on the calling thread (share 0) when there is one thread, one unit,
/// or when already inside a share. For many small products (attention heads: K = 32–64) one product
/// per thread runs near sgemm's one-thread rate, while splitting each product over two threads
/// does not. Callers that keep per-share memory read `Threads.count` once and pass it.
func parallelUnits(_ units: Int, threads: Int = Threads.count, _ body: (Int, Int) -> Void) {
  let threads = min(max(threads, 1), units)
  if threads <= 1 || ParallelRegion.isInside {
    for u in 0..<units { body(u, 0) }
    return
  }
  openblas_set_num_threads(1)
  defer { openblas_set_num_threads(Int32(Threads.count)) }
  // The shares write disjoint memory: the closure is shared across threads by contract.
  withoutActuallyEscaping(body) { kernel in
    let shared = UncheckedSendable(kernel)
    DispatchQueue.concurrentPerform(iterations: threads) { c in
      svfap_flush_denormals()
      ParallelRegion.inside {
        for u in units * c / threads..<units * (c + 1) / threads { shared.value(u, c) }
      }
    }
  }
}
