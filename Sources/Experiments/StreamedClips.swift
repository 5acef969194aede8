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

  /// The next batch (clips (B, 3, T, H, W) and targets); an epoch's end moves on to the next epoch.
  public func next() throws -> (Tensor, [[Double]])? {
    do {
      guard let (clips, labels) = try nextBatch() else { return nil }
      return try augmented(clips, labels)
    } catch let e as MediaError {
      throw ExperimentError("\(e) (on_error: \"skip\" to go on without it)", io: true)
    }
  }

  /// `repeats` augmented copies of each clip of a loaded batch (B, 3, T, H, W).
  func augmented(_ clips: Tensor, _ labels: [[Double]]) throws -> (Tensor, [[Double]]) {
    if repeats == 1 && augmentation.isIdentity { return (clips, labels) }
    let b = clips.shape[0], first = run.dataPosition - b
    var out: [Tensor] = [], targets: [[Double]] = []
    for i in 0..<b {
      let clip = try clips.slice(axis: 0, start: i, count: 1)
      for copy in 0..<repeats {
        var rng = FinetuneAugmentation.generator(seed: run.dataSeed, sample: first + i, copy: copy)
        out.append(try augmentation.apply(clip, rng: &rng))
        targets.append(labels[i])
      }
    }
    return (try Tensor.concat(out, axis: 0), targets)
  }

  private func nextBatch() throws -> (Tensor, [[Double]])? {
    let n = manifest.rows.count
    guard n > 0 else { throw MediaError(root, "the manifest has no rows to stream") }
    if run.dataPosition < 0 { run.dataPosition = 0 }  // an edited checkpoint
    var emptyEpochs = 0
    while true {
      let e = run.dataPosition / n, pos = run.dataPosition % n
      let current: ClipLoader
      if let open = loader, e == epoch {
        current = open
      } else {
        current = ClipLoader(
          manifest: manifest, root: root, spec: spec, batch: batch, shuffle: true,
          seed: run.dataSeed &+ UInt64(truncatingIfNeeded: e), randomStart: true,
          onBadRow: onError, startPosition: pos)
        (loader, epoch, reported) = (current, e, 0)
      }
      let b = try current.next()
      run.dataPosition = e * n + current.position
      for s in current.skipped.dropFirst(reported) where skippedRows.insert(s.row).inserted {
        report("skipped \(manifest.rows[s.row].path): \(s.error)")
      }
      reported = current.skipped.count
      if let b { return (b.clips, b.labels) }
      emptyEpochs += 1
      guard emptyEpochs < 2 else {
        throw MediaError(root, "no video of the \(n) rows could be read")
      }
    }
  }
}
