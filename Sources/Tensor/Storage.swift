import Glibc

/// A block of tensor memory, 64-byte aligned, returned to `BufferCache` when the last tensor using
/// it dies.
final class Storage {
  /// The first byte.
  let base: UnsafeMutableRawPointer
  /// Capacity in bytes.
  let byteCount: Int

  /// Allocates `byteCount` bytes (uninitialized) from the cache.
  init(byteCount: Int) {
    self.byteCount = byteCount
    self.base = BufferCache.shared.take(byteCount)
  }

  deinit { BufferCache.shared.give(base, byteCount) }

  /// The memory as elements of `T`.
  @inline(__always) func pointer<T>(_: T.Type) -> UnsafeMutablePointer<T> {
    base.assumingMemoryBound(to: T.self)
  }
}

/// Keeps freed tensor buffers by exact byte size so that repeated steps reuse memory instead of
/// mapping fresh pages (each step of a model allocates the same sizes again), which keeps peak RSS
/// flat.
public final class BufferCache: @unchecked Sendable {
  /// The process-wide cache.
  public static let shared = BufferCache()
  private var free: [Int: [UnsafeMutableRawPointer]] = [:]
  private var cachedBytes = 0
  private var lock = pthread_mutex_t()
  /// Most bytes kept for reuse; beyond it freed buffers go back to the system.
  public var limitBytes = 8 << 30

  init() { pthread_mutex_init(&lock, nil) }

  /// Bytes currently held for reuse.
  public var bytesCached: Int {
    pthread_mutex_lock(&lock)
    defer { pthread_mutex_unlock(&lock) }
    return cachedBytes
  }

  func take(_ bytes: Int) -> UnsafeMutableRawPointer {
    let n = max(bytes, 1)
    pthread_mutex_lock(&lock)
    if var list = free[n], let p = list.popLast() {
      free[n] = list
      cachedBytes -= n
      pthread_mutex_unlock(&lock)
      return p
    }
    pthread_mutex_unlock(&lock)
    return UnsafeMutableRawPointer.allocate(byteCount: n, alignment: 64)
  }

  func give(_ p: UnsafeMutableRawPointer, _ bytes: Int) {
    let n = max(bytes, 1)
    pthread_mutex_lock(&lock)
    if cachedBytes + n <= limitBytes {
      free[n, default: []].append(p)
      cachedBytes += n
      pthread_mutex_unlock(&lock)
    } else {
      pthread_mutex_unlock(&lock)
      p.deallocate()
    }
  }

  /// Returns every cached buffer to the system.
  public func releaseAll() {
    pthread_mutex_lock(&lock)
    let all = free
    free = [:]
    cachedBytes = 0
    pthread_mutex_unlock(&lock)
    for (_, list) in all { for p in list { p.deallocate() } }
  }
}
