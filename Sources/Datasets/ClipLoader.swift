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
  }

  /// What to do with a row whose video fails.
  public enum BadRowPolicy: String, CaseIterable, Sendable { case skip, stop }

  let manifest: Manifest
  let root: String
  let spec: ClipSpec
  let batchSize: Int
  let order: [Int]
  let seed: UInt64
  let randomStart: Bool
  let policy: BadRowPolicy
  let capacity: Int
  private let cond = NSCondition()
  private var results: [Int: Result<Tensor, Error>] = [:]
  private var nextToSchedule = 0
  private var nextToConsume = 0
  private var stopped = false
  /// Samples of the order consumed so far (skipped ones included, `startPosition` counted).
  public var position: Int {
    cond.lock()
    defer { cond.unlock() }
    return nextToConsume
  }
  /// Rows skipped because their video failed, with the reason.
  public private(set) var skipped: [(row: Int, error: String)] = []

  /// A loader over `manifest` (paths relative to `root`). `shuffle` with `seed` fixes the order;
  /// `randomStart` picks a random clip start per sample (training), else the centred clip;
  /// `startPosition` skips that many samples of the order (resuming inside an epoch).
  public init(
    manifest: Manifest, root: String, spec: ClipSpec, batch: Int, shuffle: Bool, seed: UInt64,
    randomStart: Bool,
    workers: Int = 2, prefetchBatches: Int = 2, onBadRow: BadRowPolicy = .skip,
    startPosition: Int = 0
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
    nextToSchedule = min(max(startPosition, 0), order.count)
    nextToConsume = nextToSchedule
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
      while !stopped && nextToSchedule < order.count && nextToSchedule - nextToConsume >= capacity {
        cond.wait()
      }
      if stopped || nextToSchedule >= order.count {
        cond.unlock()
        return
      }
      let pos = nextToSchedule
      nextToSchedule += 1
      cond.unlock()
      let r = Result { try decode(position: pos) }
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

  /// The next batch, or nil at the end. With `.stop`, a failing row throws an error naming it.
  public func next() throws -> Batch? {
    var clips: [Tensor] = [], labels: [[Double]] = [], rows: [Int] = []
    while clips.count < batchSize {
      cond.lock()
      guard nextToConsume < order.count else {
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
      switch r {
      case .success(let t):
        clips.append(t)
        labels.append(manifest.rows[order[pos]].labels)
        rows.append(order[pos])
      case .failure(let e):
        if policy == .stop {
          throw MediaError(manifest.rows[order[pos]].path, "manifest row \(order[pos] + 1): \(e)")
        }
        skipped.append((order[pos], "\(e)"))
      }
    }
    guard !clips.isEmpty else { return nil }
    return Batch(clips: try Tensor.concat(clips, axis: 0), labels: labels, rows: rows)
  }
}
