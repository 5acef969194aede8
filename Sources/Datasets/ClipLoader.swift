import Foundation
import Media
import Tensor

/// Batches of clips from a manifest, decoded on worker threads into a bounded prefetch buffer. The
/// order (a seeded shuffle) and each clip's random start depend only on the seed and the sample's
/// position, never on thread timing, so a seed gives the same batches every run.
public final class ClipLoader: @unchecked Sendable {  // every mutable field is guarded by `cond`
  /// One batch: clips (B, 3, T, H, W), their labels, and the manifest rows they came from.
  public struct Batch {
    /// (B, 3, T, H, W).
    public let clips: Tensor
    /// Labels per clip.
    public let labels: [[Double]]
    /// Manifest row indices.
    public let rows: [Int]
    /// Their positions in the loader's order.
    public let positions: [Int]
  }

  /// What to do with a row whose video fails.
  public enum BadRowPolicy: String, CaseIterable, Sendable { case skip, stop }

  let manifest: Manifest
  let root: String
  let spec: ClipSpec
  let batchSize: Int
  let order: [Int]
  /// The positions of `order` this loader reads (all of them, or a process's shard), ascending.
  let positions: [Int]
  let seed: UInt64
  let randomStart: Bool
  let policy: BadRowPolicy
  let capacity: Int
  private let cond = NSCondition()
  private var results: [Int: Result<Tensor, Error>] = [:]
  /// Indices into `positions`.
  private var nextToSchedule = 0
  private var nextToConsume = 0
  private var stopped = false
  /// The position in the order after the last sample consumed (skipped ones included,
  /// `startPosition` counted); the order's length once this loader's positions are used up.
  public var position: Int {
    cond.lock()
    defer { cond.unlock() }
    if nextToConsume >= positions.count { return order.count }
    return nextToConsume == 0 ? min(startPosition, order.count) : positions[nextToConsume - 1] + 1
  }
  private let startPosition: Int
  /// Rows skipped because their video failed, with the reason.
  public private(set) var skipped: [(row: Int, error: String)] = []

  /// A loader over `manifest` (paths relative to `root`). `shuffle` with `seed` fixes the order;
  /// `randomStart` picks a random clip start per sample (training), else the centred clip;
  /// `startPosition` skips that many samples of the order (resuming inside an epoch); `keep`
  /// chooses the positions of the order this loader reads (a process's shard; all by default).
  public init(
    manifest: Manifest, root: String, spec: ClipSpec, batch: Int, shuffle: Bool, seed: UInt64,
    randomStart: Bool,
    workers: Int = 2, prefetchBatches: Int = 2, onBadRow: BadRowPolicy = .skip,
    startPosition: Int = 0, keep: (Int) -> Bool = { _ in true }
  ) {
    self.manifest = manifest
    self.root = root
    self.spec = spec
    batchSize = max(1, batch)
    var rng = SplitMix64(seed: seed)
    var idx = Array(manifest.rows.indices)
    if shuffle { idx.shuffle(using: &rng) }
    order = idx
    self.seed = seed
    self.randomStart = randomStart
    policy = onBadRow
    capacity = max(1, prefetchBatches) * batchSize
    let start = min(max(startPosition, 0), order.count)
    self.startPosition = start
    positions = (start..<order.count).filter(keep)
    for _ in 0..<max(1, workers) { Thread.detachNewThread { [weak self] in self?.work() } }
  }

  deinit {
    cond.lock()
    stopped = true
    cond.broadcast()
    cond.unlock()
  }

  private func work() {
    while true {
      cond.lock()
      while !stopped && nextToSchedule < positions.count
        && nextToSchedule - nextToConsume >= capacity
      {
        cond.wait()
      }
      if stopped || nextToSchedule >= positions.count {
        cond.unlock()
        return
      }
      let pos = nextToSchedule
      nextToSchedule += 1
      cond.unlock()
      let r = Result { try decode(position: positions[pos]) }
      cond.lock()
      results[pos] = r
      cond.broadcast()
      cond.unlock()
    }
  }

  private func decode(position pos: Int) throws -> Tensor {
    let row = manifest.rows[order[pos]]
    let path = row.path.hasPrefix("/") ? row.path : root + "/" + row.path
    let reader = try VideoReader(path: path)
    var start: Int? = nil
    if randomStart {
      var rng = SplitMix64(seed: seed &+ UInt64(pos) &* 0x9E37_79B9)
      start = ClipSampler.randomStart(
        frames: spec.frames, stride: spec.stride, frameCount: reader.info.frameCount, rng: &rng)
    }
    return try reader.clip(spec, start: start).tensor
  }

  /// The next batch (at most `limit` clips, default the batch size), or nil at the end. With
  /// `.stop`, a failing row throws an error naming it.
  public func next(limit: Int? = nil) throws -> Batch? {
    var clips: [Tensor] = [], labels: [[Double]] = [], rows: [Int] = [], consumed: [Int] = []
    let wanted = min(max(limit ?? batchSize, 1), batchSize)
    while clips.count < wanted {
      cond.lock()
      guard nextToConsume < positions.count else {
        cond.unlock()
        break
      }
      let pos = nextToConsume
      var taken = results.removeValue(forKey: pos)
      while taken == nil {
        cond.wait()
        taken = results.removeValue(forKey: pos)
      }
      guard let r = taken else { break }
      nextToConsume += 1
      cond.broadcast()
      cond.unlock()
      let row = order[positions[pos]]
      switch r {
      case .success(let t):
        clips.append(t)
        labels.append(manifest.rows[row].labels)
        rows.append(row)
        consumed.append(positions[pos])
      case .failure(let e):
        if policy == .stop {
          throw MediaError(manifest.rows[row].path, "manifest row \(row + 1): \(e)")
        }
        skipped.append((row, "\(e)"))
      }
    }
    guard !clips.isEmpty else { return nil }
    return Batch(
      clips: try Tensor.concat(clips, axis: 0), labels: labels, rows: rows, positions: consumed)
  }
}
