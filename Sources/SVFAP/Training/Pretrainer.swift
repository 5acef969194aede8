import Foundation
import Tensor

/// Incremental masked-autoencoder pretraining: the model, its optimizer, the schedule position, the
/// RNG and the loss log live here between calls, so `train(steps: 200)` twice equals `train(steps:
/// 400)` once (same seed ⇒ same losses), and a checkpoint taken between calls resumes bit-for-bit.
public final class Pretrainer: TrainingRunState, TrainingRun {
  /// Why a call to `train` ended.
  public typealias Stop = TrainingStop

  /// The model.
  public let model: PretrainModel
  /// Mask ratio (tube masking).
  public var maskRatio: Double

  /// The run's settings, the mask ratio included.
  public override var settings: RunSettings {
    get {
      var s = super.settings
      s.maskRatio = maskRatio
      return s
    }
    set {
      super.settings = newValue
      if let r = newValue.maskRatio { maskRatio = r }
    }
  }

  /// A trainer with the SVFAP pretraining recipe (AdamW β 0.9/0.95, wd 0.05, base lr 3e-4 per 256
  /// clips, cosine to 1e-5 with 5% warmup) for `totalSteps` steps of `batch` clips.
  public init(
    model: PretrainModel, totalSteps: Int, batch: Int, baseLR: Double = 3e-4,
    maskRatio: Double = 0.9, seed: UInt64 = 0
  ) {
    self.model = model
    self.maskRatio = maskRatio
    super.init(
      optimizer: AdamW(model),
      schedule: CosineSchedule(
        baseLR: baseLR, minLR: 1e-5, warmupSteps: max(totalSteps / 20, 0), totalSteps: totalSteps,
        batch: batch),
      seed: seed)
  }

  /// A sample's augmentation: a clip (1, 3, T, H, W) and the sample's own generator in, the
  /// augmented clip out.
  public typealias Augment = (Tensor, inout SplitMix64) throws -> Tensor

  /// Runs up to `steps` steps on batches drawn from `clips` (each (1, 3, T, H, W) or a batch);
  /// `batch` clips per step, each passed through `augment` (when given) with its sample's own
  /// generator. `shouldStop` is polled between steps (Ctrl-C). `progress` sees every step.
  @discardableResult
  public func train(
    clips: [Tensor], steps: Int, batch: Int, augment: Augment? = nil,
    shouldStop: () -> Bool = { false }, progress: (StepLog) -> Void = { _ in }
  ) throws -> Stop {
    let singles = try clips.flatMap { c -> [Tensor] in
      guard c.rank == 5 else {
        throw SVFAPError.badConfig("a clip must be (B, 3, T, H, W), got \(c.shape)")
      }
      // A single clip is used as it is (a slice would copy it: the whole dataset twice in memory).
      if c.shape[0] == 1 { return [c] }
      return try (0..<c.shape[0]).map { try c.slice(axis: 0, start: $0, count: 1) }
    }
    guard !singles.isEmpty else { throw SVFAPError.badConfig("no clips to train on") }
    let mine = try shard.range(of: batch)
    return try train(steps: steps, shouldStop: shouldStop, progress: progress) { slot in
      // The global batch's picks, the same on every process; this process takes its shard.
      var draw = sampleGenerator(slot, sample: -1, purpose: SamplePurpose.picks)
      let picks = (0..<batch).map { _ in Int(draw.next() % UInt64(singles.count)) }
      let chosen = try mine.map { k -> Tensor in
        guard let augment else { return singles[picks[k]] }
        var rng = sampleGenerator(slot, sample: k, purpose: SamplePurpose.augment)
        return try augment(singles[picks[k]], &rng)
      }
      return try Tensor.concat(chosen, axis: 0)  // (b, 3, T, H, W)
    }
  }

  /// Runs up to `steps` steps, each on `accumulate` micro-batches of clips (b, 3, T, H, W) from
  /// `next` (this process's shard of the global batch; it may stream them from disk); nil from
  /// `next` ends the call early. Each sample's tube mask comes from its own generator.
  @discardableResult
  public func train(
    steps: Int, shouldStop: () -> Bool = { false }, progress: (StepLog) -> Void = { _ in },
    next: (MicroBatch) throws -> Tensor?
  ) throws -> Stop {
    let c = model.config
    return try train(steps: steps, shouldStop: shouldStop, progress: progress) {
      slot -> (Tensor, TokenMask)? in
      guard let input = try next(slot) else { return nil }
      let rows = globalSamples(localBatch: input.shape[0]).map {
        sampleGenerator(slot, sample: $0, purpose: SamplePurpose.mask)
      }
      let mask = try TokenMask.tube(
        slices: c.timeSlices, perSlice: c.tokensPerSlice, ratio: maskRatio, rows: rows)
      return (input, mask)
    }
  }

  /// Runs up to `steps` steps on micro-batches of clips (B, 3, T, H, W) with their masks from
  /// `next` (a recorded run's masks, say); nil from `next` ends the call early. Clips are converted
  /// to the model's precision.
  @discardableResult
  public func train(
    steps: Int, shouldStop: () -> Bool = { false }, progress: (StepLog) -> Void = { _ in },
    next: (MicroBatch) throws -> (Tensor, TokenMask)?
  ) throws -> Stop {
    let dtype = model.maskToken.dtype
    return try runTrainingSteps(
      steps, model: model, config: model.config,
      shouldStop: shouldStop, progress: progress
    ) { slot in
      guard let (clips, mask) = try next(slot) else { return nil }
      let input = clips.dtype == dtype ? clips : try clips.to(dtype)
      model.encoder.rowSeeds = dropPathSeeds(slot, localBatch: input.shape[0])
      return (try model.loss(input, mask: mask).loss, input.shape[0])
    }
  }

  /// A trainer of a fresh model of the same architecture and precision with this run's settings
  /// (weights and optimizer state come from this run when they train together).
  public func replica() throws -> Pretrainer {
    let copy = Pretrainer(
      model: try PretrainModel(model.config, dtype: model.maskToken.dtype),
      totalSteps: schedule.totalSteps, batch: schedule.batch, maskRatio: maskRatio)
    copy.copySettings(from: self)
    return copy
  }

  // MARK: checkpoints

  /// Everything needed to resume: weights (`model.*`), optimizer moments (`opt.m.*`, `opt.v.*`) in
  /// safetensors, and step, RNG state, schedule, settings and config in the JSON metadata; written
  /// atomically.
  public func save(to path: String) throws {
    let state = state(config: model.config, modelRNG: [model.encoder.rng.state, model.rng.state])
    try writeTrainingCheckpoint(
      model: model, optimizer: optimizer, state: state, key: "svfap.training", to: path)
  }

  /// A trainer restored from `save(to:)`: continues exactly where the saved one stopped.
  public static func resume(from path: String) throws -> Pretrainer {
    let (meta, weights, opt) = try readTrainingCheckpoint(path, key: "svfap.training")
    // The weights' own precision (a float64 run resumes in float64).
    let dtype = weights.values.first?.dtype ?? .float32
    let model = try PretrainModel(meta.config, dtype: dtype)
    try model.load(weights, strict: true)
    let t = Pretrainer(
      model: model, totalSteps: meta.settings.schedule.totalSteps,
      batch: meta.settings.schedule.batch)
    try t.restore(meta, moments: opt)
    if let r = meta.modelRNG, r.count == 2 {
      (t.model.encoder.rng.state, t.model.rng.state) = (r[0], r[1])
    }
    return t
  }
}
