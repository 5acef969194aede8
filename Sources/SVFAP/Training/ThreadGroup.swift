import Foundation
import Tensor

/// Threads of one process that train one model together, each with its own replica and a shard of
/// every batch: data parallelism in shared memory. On a small model one thread per core with
/// single-threaded kernels beats two BLAS threads on small matrices. Sums add the members' values
/// in member order for every element, so every member gets the same bits. A member that leaves
/// (returns or throws) releases the others from any collective with an error, never a hang.
public final class ThreadGroup: @unchecked Sendable {  // every mutable field is guarded by `cond`
  /// How many members.
  public let size: Int
  private let cond = NSCondition()
  private var arrived = 0, generation = 0, left = false
  private var pointers: [UnsafeMutableRawPointer?]
  private var lengths: [Int]

  /// A group of `size` members.
  public init(size: Int) {
    self.size = max(size, 1)
    pointers = Array(repeating: nil, count: self.size)
    lengths = Array(repeating: 0, count: self.size)
  }

  /// Member `rank`'s view of the group.
  public func member(_ rank: Int) -> Collective { Member(group: self, rank: rank) }

  /// Runs `body` on `size` threads (member 0 on the calling thread, the others on new threads with
  /// 8 MB stacks), each with its member, and returns every member's result once all have ended.
  public static func run<R>(size: Int, _ body: @escaping (Collective) throws -> R) -> [Result<
    R, Error
  >] {
    let group = ThreadGroup(size: size)
    let results = ResultSlots<R>(count: group.size)
    let done = DispatchGroup()
    let shared = UncheckedSendable(body)
    for rank in 1..<group.size {
      done.enter()
      let thread = Thread {
        Threads.flushDenormals()
        results.set(rank, Result { try group.leaving { try shared.value(group.member(rank)) } })
        done.leave()
      }
      thread.stackSize = 8 << 20
      thread.start()
    }
    results.set(0, Result { try group.leaving { try body(group.member(0)) } })
    done.wait()
    return results.all()
  }

  /// Runs `body`, then marks the group as left so no other member waits for this one.
  private func leaving<R>(_ body: () throws -> R) throws -> R {
    defer {
      cond.lock()
      left = true
      cond.broadcast()
      cond.unlock()
    }
    return try body()
  }

  /// Publishes this member's buffer, waits for all, runs `work` (which may read every member's
  /// buffer and write this member's share), then waits for all again.
  fileprivate func collective(
    _ rank: Int, _ pointer: UnsafeMutableRawPointer?, _ length: Int,
    _ work: ([UnsafeMutableRawPointer?], [Int]) throws -> Void
  ) throws {
    cond.lock()
    pointers[rank] = pointer
    lengths[rank] = length
    cond.unlock()
    try barrier()
    cond.lock()
    let (all, sizes) = (pointers, lengths)
    cond.unlock()
    try work(all, sizes)
    try barrier()
  }

  private func barrier() throws {
    cond.lock()
    defer { cond.unlock() }
    let mine = generation
    arrived += 1
    if arrived == size {
      arrived = 0
      generation += 1
      cond.broadcast()
      return
    }
    while generation == mine {
      if left {
        throw SVFAPError.badConfig("a training thread stopped while the others waited for it")
      }
      cond.wait()
    }
  }

  /// One member.
  final class Member: Collective {
    let group: ThreadGroup
    let rank: Int
    var size: Int { group.size }

    init(group: ThreadGroup, rank: Int) { (self.group, self.rank) = (group, rank) }

    func sum(_ values: UnsafeMutableBufferPointer<Float>) throws {
      try combine(values, maximum: false)
    }
    func sum(_ values: UnsafeMutableBufferPointer<Double>) throws {
      try combine(values, maximum: false)
    }
    func maximum(_ values: UnsafeMutableBufferPointer<Double>) throws {
      try combine(values, maximum: true)
    }

    /// Every member combines its share of the elements over all members, in member order, and
    /// writes the result into every member's buffer.
    private func combine<T: BinaryFloatingPoint>(
      _ values: UnsafeMutableBufferPointer<T>, maximum: Bool
    ) throws {
      let n = values.count, size = group.size, rank = rank
      try group.collective(rank, UnsafeMutableRawPointer(values.baseAddress), n) { all, lengths in
        guard lengths.allSatisfy({ $0 == n }) else {
          throw SVFAPError.badConfig("training threads summed buffers of sizes \(lengths)")
        }
        let buffers = all.compactMap { $0?.assumingMemoryBound(to: T.self) }
        let (start, end) = (n * rank / size, n * (rank + 1) / size)
        guard start < end, buffers.count == size, let first = buffers.first else { return }
        let span = end - start
        let acc = UnsafeMutablePointer<T>.allocate(capacity: span)
        defer { acc.deallocate() }
        acc.update(from: first + start, count: span)
        for b in buffers.dropFirst() {
          let src = b + start
          if maximum {
            for i in 0..<span { acc[i] = Swift.max(acc[i], src[i]) }
          } else {
            for i in 0..<span { acc[i] += src[i] }
          }
        }
        for b in buffers { (b + start).update(from: acc, count: span) }
      }
    }

    func broadcast(_ bytes: UnsafeMutableRawBufferPointer, from root: Int) throws {
      let rank = rank
      try group.collective(rank, bytes.baseAddress, bytes.count) { all, lengths in
        guard rank != root, root >= 0, root < all.count, let source = all[root],
          let target = bytes.baseAddress
        else { return }
        guard lengths[root] == bytes.count else {
          throw SVFAPError.badConfig(
            "training threads broadcast \(lengths[root]) ≠ \(bytes.count) bytes")
        }
        target.copyMemory(from: source, byteCount: bytes.count)
      }
    }

    func gather(_ bytes: [UInt8]) throws -> [[UInt8]] {
      var out: [[UInt8]] = []
      var mine = bytes
      try mine.withUnsafeMutableBytes { raw in
        try group.collective(rank, raw.baseAddress, raw.count) { all, lengths in
          out = zip(all, lengths).map { p, n in
            guard let p, n > 0 else { return [] }
            return Array(UnsafeRawBufferPointer(start: p, count: n))
          }
        }
      }
      return out
    }
  }
}

/// One result slot per member, written by its thread.
private final class ResultSlots<R>: @unchecked Sendable {  // guarded by `lock`
  private var slots: [Result<R, Error>?]
  private let lock = NSLock()
  init(count: Int) { slots = Array(repeating: nil, count: count) }
  func set(_ i: Int, _ r: Result<R, Error>) {
    lock.lock()
    slots[i] = r
    lock.unlock()
  }
  func all() -> [Result<R, Error>] {
    lock.lock()
    defer { lock.unlock() }
    return slots.map { $0 ?? .failure(SVFAPError.badConfig("a training thread gave no result")) }
  }
}
