import Datasets
import Media
import SVFAP
import Tensor

/// Batches of a training run (pretraining or fine-tuning) streamed from disk by a `ClipLoader`:
/// epoch e is the manifest shuffled with the run's data seed + e; the position inside the run lives
/// in the run (`dataPosition`, checkpointed), so a resumed run reads exactly the batches the
/// uninterrupted one would. Fine-tuning runs may augment: each loaded clip gives `repeats` copies,
/// each through `augmentation` with the generator of its (data seed, sample index).
public final class StreamedClips {
  let manifest: Manifest, root: String, spec: ClipSpec, batch: Int
  let onError: ClipLoader.BadRowPolicy
  let run: TrainingRun
  /// Where a skipped row is reported ("skipped PATH: why").
  let report: (String) -> Void
  /// Augmented copies per loaded clip, and the augmentation (identity: none).
  public var repeats = 1, augmentation = FinetuneAugmentation.none
  private var loader: ClipLoader?
  private var epoch = -1, reported = 0
  /// Rows already reported as skipped (each is said once per call, not once per epoch).
  private var skippedRows: Set<Int> = []

  /// Streams `manifest`'s rows (paths relative to `root`) as batches of `batch` clips for `run`.
  public init(
    manifest: Manifest, root: String, spec: ClipSpec, batch: Int, onError: ClipLoader.BadRowPolicy,
    run: TrainingRun,
    report: @escaping (String) -> Void
  ) {
    (self.manifest, self.root, self.spec, self.batch, self.onError, self.run) = (
      manifest, root, spec, batch, onError, run
    )
    self.report = report
  }

  /// This process's share of the next batch (clips (b, 3, T, H, W) and targets); an epoch's end
  /// moves on to the next epoch.
  public func next() throws -> (Tensor, [[Double]])? {
    do {
      guard let (clips, labels, positions) = try nextBatch() else { return nil }
      return try augmented(clips, labels, positions)
    } catch let e as MediaError {
      throw ExperimentError("\(e) (on_error: \"skip\" to go on without it)", io: true)
    }
  }

  /// `repeats` augmented copies of each clip of a loaded batch (B, 3, T, H, W), each drawn by the
  /// generator of its run position.
  func augmented(_ clips: Tensor, _ labels: [[Double]], _ positions: [Int]) throws -> (
    Tensor, [[Double]]
  ) {
    if repeats == 1 && augmentation.isIdentity { return (clips, labels) }
    let b = clips.shape[0]
    var out: [Tensor] = [], targets: [[Double]] = []
    for i in 0..<b {
      let clip = try clips.slice(axis: 0, start: i, count: 1)
      for copy in 0..<repeats {
        var rng = FinetuneAugmentation.generator(
          seed: run.dataSeed, sample: positions[i], copy: copy)
        out.append(try augmentation.apply(clip, rng: &rng))
        targets.append(labels[i])
      }
    }
    return (try Tensor.concat(out, axis: 0), targets)
  }

  /// This process's next `localBatch` loaded clips: its shard of the run's positions (a run
  /// position is epoch · rows + position in that epoch's order; process r of N reads the positions
  /// whose place in their global batch of `batch` falls in its shard). An epoch's end continues in
  /// the next epoch, so every batch is full.
  private func nextBatch() throws -> (Tensor, [[Double]], [Int])? {
    let n = manifest.rows.count
    guard n > 0 else { throw MediaError(root, "the manifest has no rows to stream") }
    if run.dataPosition < 0 { run.dataPosition = 0 }  // an edited checkpoint
    let shard = run.shard, local = try shard.localBatch(of: batch)
    var clips: [Tensor] = [], labels: [[Double]] = [], positions: [Int] = []
    // A process's share of an epoch may be a single row: it gives up only when the rows that failed
    // since its last good clip cover the whole manifest (or after many empty epochs).
    var emptyEpochs = 0, readThisEpoch = false, failed: Set<Int> = []
    while labels.count < local {
      let e = run.dataPosition / n, pos = run.dataPosition % n
      let current: ClipLoader
      if let open = loader, e == epoch {
        current = open
      } else {
        let (global, mine) = (batch, shard)
        current = ClipLoader(
          manifest: manifest, root: root, spec: spec, batch: local, shuffle: true,
          seed: run.dataSeed &+ UInt64(truncatingIfNeeded: e), randomStart: true,
          onBadRow: onError, startPosition: pos,
          keep: { ((e * n + $0) % global) / (global / mine.count) == mine.index })
        (loader, epoch, reported, readThisEpoch) = (current, e, 0, false)
      }
      let b = try current.next(limit: local - labels.count)
      run.dataPosition = e * n + current.position
      for s in current.skipped.dropFirst(reported) {
        failed.insert(s.row)
        if skippedRows.insert(s.row).inserted {
          report("skipped \(manifest.rows[s.row].path): \(s.error)")
        }
      }
      reported = current.skipped.count
      if let b {
        (readThisEpoch, failed) = (true, [])
        clips.append(b.clips)
        labels += b.labels
        positions += b.positions.map { e * n + $0 }
        continue
      }
      run.dataPosition = (e + 1) * n  // this process's share of the epoch is used up
      emptyEpochs = readThisEpoch ? 0 : emptyEpochs + 1
      guard failed.count < n, emptyEpochs < 64 + 4 * n else {
        throw MediaError(root, "no video of the \(n) rows could be read")
      }
    }
    return (try Tensor.concat(clips, axis: 0), labels, positions)
  }
}
