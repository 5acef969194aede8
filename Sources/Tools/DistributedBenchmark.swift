import SVFAP
import Tensor

/// `svfap bench distributed`: pretraining steps of one model on this process's share of random
/// clips, in whatever world the process runs in (alone, or the ranks of `mpirun -n N`), with the
/// time spent summing gradients over the ranks.
public enum DistributedBenchmark {
  /// One measurement (the same on every rank; rank 0 prints it).
  public struct Result: Sendable {
    /// Processes.
    public let world: Int
    /// Threads per process.
    public let threads: Int
    /// Global clips per step.
    public let batch: Int
    /// Median milliseconds per step.
    public let stepMs: Double
    /// Global clips per second at the median step.
    public var clipsPerSecond: Double { Double(batch) / (stepMs / 1000) }
    /// Median milliseconds per step in the gradient sums.
    public let allreduceMs: Double
    /// Megabytes each process puts into the sums per step.
    public let megabytesPerStep: Double
    /// Peak resident memory of this process.
    public let peakRssMB: Double

    /// The JSON line.
    public var json: String {
      """
      {"world": \(world), "threads": \(threads), "batch": \(batch), "step_ms": \(r1(stepMs)), \
      "clips_per_s": \(r1(clipsPerSecond)), "allreduce_ms": \(r1(allreduceMs)), \
      "mb_per_step": \(r1(megabytesPerStep)), "peak_rss_mb": \(r1(peakRssMB))}
      """
    }
  }

  /// Times `steps` pretraining steps of `preset` at global `batch` after one warm-up step.
  public static func run(
    world: Collective, preset: String, batch: Int, steps: Int, threads: Int
  ) throws -> Result {
    Threads.count = max(threads, 1)
    let cfg = try SVFAPConfig.preset(preset)
    let model = try PretrainModel(cfg, seed: 1)
    let trainer = Pretrainer(model: model, totalSteps: steps + 1, batch: batch)
    trainer.collective = world
    var rng = SplitMix64(seed: 7)
    let clips = (0..<max(batch, 1)).map { _ in
      Tensor.randn([1, cfg.inChans, cfg.frames, cfg.imgSize, cfg.imgSize], rng: &rng)
    }
    var stepMs: [Double] = [], reduceMs: [Double] = []
    var last = monotonicSeconds(), lastReduce = 0.0, lastBytes = 0
    try trainer.train(
      clips: clips, steps: steps + 1, batch: batch,
      progress: { entry in
        let now = monotonicSeconds()
        if entry.step > 1 {
          stepMs.append((now - last) * 1000)
          reduceMs.append((trainer.communication.seconds - lastReduce) * 1000)
        }
        lastBytes = trainer.communication.bytes / max(entry.step, 1)
        (last, lastReduce) = (now, trainer.communication.seconds)
      })
    return Result(
      world: world.size, threads: Threads.count, batch: batch, stepMs: median(stepMs),
      allreduceMs: median(reduceMs), megabytesPerStep: Double(lastBytes) / 1_048_576,
      peakRssMB: ModelBenchmark.peakRssMB())
  }

  static func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.isEmpty ? 0 : s[s.count / 2]
  }
}
