import SVFAP
import Tensor

/// Batches of a fine-tuning run from clips kept in memory, as the authors' loader gives them:
/// epochs over the videos shuffled anew each epoch (the run's data seed + epoch), `repeats`
/// augmented copies of each drawn video (`num_sample`), one of the video's stored views (temporal
/// positions) per draw. The position lives in the run (`dataPosition`, checkpointed), and every
/// draw's generator comes from (data seed, sample index), so a resumed run sees the same batches.
public final class ShuffledClips {
  let views: [[Tensor]], targets: [[Double]]
  let videosPerBatch: Int, repeats: Int
  let augmentation: FinetuneAugmentation
  let run: TrainingRunState
  private var order: (epoch: Int, permutation: [Int]) = (-1, [])

  /// Batches of `videosPerBatch` videos × `repeats` copies from `views` (each video's clips
  /// (1, 3, T, H, W)) with their `targets`.
  public init(
    views: [[Tensor]], targets: [[Double]], videosPerBatch: Int, repeats: Int,
    augmentation: FinetuneAugmentation,
    run: TrainingRunState
  ) throws {
    guard !views.isEmpty, views.count == targets.count, views.allSatisfy({ !$0.isEmpty }) else {
      throw ExperimentError("need at least one video with clips, and one target row per video")
    }
    (self.views, self.targets, self.videosPerBatch, self.repeats) = (
      views, targets, max(1, videosPerBatch), max(1, repeats)
    )
    (self.augmentation, self.run) = (augmentation, run)
  }

  /// The video at position `k` of the run: epoch k / n's permutation at k mod n.
  func video(at k: Int) -> Int {
    let n = views.count, epoch = k / n
    if order.epoch != epoch {
      var rng = SplitMix64(seed: run.dataSeed &+ UInt64(truncatingIfNeeded: epoch))
      var p = Array(0..<n)
      for i in stride(from: n - 1, to: 0, by: -1) { p.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
      order = (epoch, p)
    }
    return order.permutation[k % n]
  }

  /// This process's share of the next batch: clips (videos · repeats, 3, T, H, W) and their
  /// targets, where the global batch's `videosPerBatch` videos are split evenly over the processes.
  public func next() throws -> (Tensor, [[Double]])? {
    if run.dataPosition < 0 { run.dataPosition = 0 }
    var clips: [Tensor] = [], labels: [[Double]] = []
    for j in try run.shard.range(of: videosPerBatch) {
      let k = run.dataPosition + j, v = video(at: k)
      for copy in 0..<repeats {
        var rng = FinetuneAugmentation.generator(seed: run.dataSeed, sample: k, copy: copy)
        let stored = views[v][Int(rng.next() % UInt64(views[v].count))]
        clips.append(try augmentation.apply(stored, rng: &rng))
        labels.append(targets[v])
      }
    }
    run.dataPosition += videosPerBatch
    return (try Tensor.concat(clips, axis: 0), labels)
  }
}
