import Foundation
import Tensor

/// Fine-tuning of the encoder for the paper's task families: classification (cross-entropy with
/// label smoothing), regression (MSE or 1 − CCC, with the head activation of the model's config).
/// AdamW (β 0.9/0.999, wd 0.05), base lr 1e-3 per 256 clips, cosine schedule with 5% warmup,
/// layer-wise lr decay 0.75, drop path from the config, as the authors' recipe.
public final class Finetuner: TrainingRunState, TrainingRun {
  /// Why a call to `train` ended.
  public typealias Stop = TrainingStop

  /// The task's loss.
  public enum Task: Codable, Sendable, Equatable {
    /// Classes with label smoothing.
    case classification(smoothing: Double)
    /// Continuous targets with MSE or 1 − mean CCC over the targets.
    case regression(loss: RegressionLoss)
  }

  /// The model.
  public let model: FinetuneModel
  /// The task.
  public let task: Task
  /// Every step's loss.
  public var losses: [Double] { log.map(\.loss) }
  /// Mixup α (0 = off; the authors use 0.8) and CutMix α (0 = off; 1.0), switched with probability
  /// ½ when both are on; labels become mixed, label-smoothed soft targets. Classification only.
  public var mixupAlpha = 0.0, cutmixAlpha = 0.0

  /// The run's settings, the task, lr scales, mixup and cutmix included (the task is fixed when
  /// the run is made: settings of another task are refused by `resume`).
  public override var settings: RunSettings {
    get {
      var s = super.settings
      (s.task, s.lrScale, s.mixup, s.cutmix) = (task, optimizer.lrScale, mixupAlpha, cutmixAlpha)
      return s
    }
    set {
      super.settings = newValue
      if let scales = newValue.lrScale, scales.count == optimizer.lrScale.count {
        optimizer.lrScale = scales
      }
      (mixupAlpha, cutmixAlpha) = (newValue.mixup ?? 0, newValue.cutmix ?? 0)
    }
  }

  /// A fine-tuner for `totalSteps` steps of `batch` clips.
  /// `warmupSteps` nil = 5% of the steps; `frozenEncoder` trains only fc_norm and the head.
  public init(
    model: FinetuneModel, task: Task, totalSteps: Int, batch: Int, baseLR: Double = 1e-3,
    layerDecay: Double = 0.75,
    warmupSteps: Int? = nil, frozenEncoder: Bool = false, seed: UInt64 = 0
  ) {
    self.model = model
    self.task = task
    var s = AdamW.Settings()
    s.beta2 = 0.999
    let optimizer = AdamW(model, settings: s)
    optimizer.lrScale = Self.lrScales(
      names: optimizer.parameters.map(\.name), config: model.config, layerDecay: layerDecay,
      frozenEncoder: frozenEncoder)
    let schedule = CosineSchedule(
      baseLR: baseLR, minLR: 1e-6, warmupSteps: warmupSteps ?? max(totalSteps / 20, 0),
      totalSteps: totalSteps, batch: batch)
    super.init(optimizer: optimizer, schedule: schedule, seed: seed)
  }

  /// Per-parameter lr scales: layer-wise decay, and 0 for all but fc_norm and the head when the
  /// encoder is frozen.
  public static func lrScales(
    names: [String], config: SVFAPConfig, layerDecay: Double, frozenEncoder: Bool
  ) -> [Double] {
    let scales = layerDecayScales(names: names, stageDepths: config.stageDepths, decay: layerDecay)
    guard frozenEncoder else { return scales }
    return zip(names, scales).map { n, s in
      n.hasPrefix("fc_norm.") || n.hasPrefix("head.") ? s : 0
    }
  }

  /// The loss of outputs (B, K) against targets (class index, or K values per clip).
  public func loss(_ out: Tensor, _ targets: [[Double]]) throws -> Tensor {
    switch task {
    case .classification(let eps):
      return try out.crossEntropy(labels: targets.map { Int($0[0]) }, smoothing: eps)
    case .regression(let kind):
      let y = try Tensor(targets.flatMap { $0 }, shape: out.shape, dtype: out.dtype)
      if kind == .mse { return try out.mse(y) }
      // 1 − CCC per target over the batch, averaged.
      let mx = try out.mean(axis: 0, keepDim: true), my = try y.mean(axis: 0, keepDim: true)
      let dx = try out - mx, dy = try y - my
      let cov = try (dx * dy).mean(axis: 0), vx = try dx.square().mean(axis: 0),
        vy = try dy.square().mean(axis: 0)
      let ccc = try (cov * 2) / (vx + vy + (mx - my).square().reshaped([out.shape[1]]) + 1e-8)
      return try ccc.mean().affine(-1, 1)
    }
  }

  /// Trains `steps` steps on clips (each (1, 3, T, H, W)) with their targets.
  @discardableResult
  public func train(
    clips: [Tensor], targets: [[Double]], steps: Int, batch: Int,
    shouldStop: () -> Bool = { false },
    progress: (StepLog) -> Void = { _ in }
  ) throws -> Stop {
    guard clips.count == targets.count, !clips.isEmpty else {
      throw SVFAPError.badConfig(
        "need as many targets as clips (got \(clips.count) and \(targets.count))")
    }
    if case .classification = task,
      let bad = targets.first(where: { Int($0[0]) < 0 || Int($0[0]) >= model.config.numClasses })
    {
      throw SVFAPError.badConfig(
        "label \(bad[0]) is outside 0..<\(model.config.numClasses); fix the dataset before training"
      )
    }
    let mine = try shard.range(of: batch)
    return try train(steps: steps, shouldStop: shouldStop, progress: progress) { slot in
      // The global batch's picks, the same on every process; this process takes its shard.
      var draw = sampleGenerator(slot, sample: -1, purpose: SamplePurpose.picks)
      let picks = (0..<batch).map { _ in Int(draw.next() % UInt64(clips.count)) }
      // (b, 3, T, H, W)
      return (
        try Tensor.concat(mine.map { clips[picks[$0]] }, axis: 0), mine.map { targets[picks[$0]] }
      )
    }
  }

  /// Trains up to `steps` steps, each on `accumulate` micro-batches (clips (b, 3, T, H, W) and
  /// their targets: this process's shard of the global batch) drawn from `next`, which may stream
  /// them from disk; nil from `next` ends the call early. Each sample's drop-path coins come from
  /// its own generator. Mixup and CutMix pair clips within a process's shard (as the authors' DDP
  /// runs do), so with them on a run depends on the number of processes.
  @discardableResult
  public func train(
    steps: Int, shouldStop: () -> Bool = { false }, progress: (StepLog) -> Void = { _ in },
    next: (MicroBatch) throws -> (Tensor, [[Double]])?
  ) throws -> Stop {
    model.train(true)
    let dtype = model.head.weight.dtype
    return try runTrainingSteps(
      steps, model: model, config: model.config,
      shouldStop: shouldStop, progress: progress
    ) { slot in
      guard let (clips, targets) = try next(slot) else { return nil }
      var input = clips.dtype == dtype ? clips : try clips.to(dtype)
      let count = input.shape[0]
      model.rowSeeds = dropPathSeeds(slot, localBatch: count)
      if case .classification(let eps) = task, mixupAlpha > 0 || cutmixAlpha > 0 {
        let (mixed, soft) = try mix(input, labels: targets.map { Int($0[0]) }, smoothing: eps)
        input = mixed
        return (try model(input).softCrossEntropy(targets: soft), count)
      }
      return (try loss(model(input), targets), count)
    }
  }

  /// Mixup or CutMix of a batch with itself reversed: the mixed clips and soft targets (B, K).
  func mix(_ x: Tensor, labels: [Int], smoothing: Double) throws -> (Tensor, Tensor) {
    let b = x.shape[0], k = model.config.numClasses
    let useCutmix = cutmixAlpha > 0 && (mixupAlpha == 0 || rng.nextDouble() < 0.5)
    var lam = beta(useCutmix ? cutmixAlpha : mixupAlpha)
    let partner = try Tensor.concat(
      (0..<b).reversed().map { try x.slice(axis: 0, start: $0, count: 1) }, axis: 0)
    var mixed: Tensor
    if useCutmix {
      // A box of area (1 − λ) pasted from the partner into every frame; λ follows the box's real
      // area.
      let (h, w) = (x.shape[3], x.shape[4])
      let cut = (1 - lam).squareRoot()
      let bh = Int(Double(h) * cut), bw = Int(Double(w) * cut)
      let cy = Int(rng.next() % UInt64(h)), cx = Int(rng.next() % UInt64(w))
      let y0 = max(cy - bh / 2, 0), y1 = min(cy + bh / 2, h), x0 = max(cx - bw / 2, 0),
        x1 = min(cx + bw / 2, w)
      mixed = x.copy()
      let planes = x.count / (h * w)
      func paste<T: BinaryFloatingPoint>(_: T.Type) {
        let dst = mixed.pointer(T.self), src = partner.pointer(T.self)
        for p in 0..<planes {
          for yy in y0..<y1 {
            for xx in x0..<x1 { dst[(p * h + yy) * w + xx] = src[(p * h + yy) * w + xx] }
          }
        }
      }
      if x.dtype == .float32 { paste(Float.self) } else { paste(Double.self) }
      lam = 1 - Double((y1 - y0) * (x1 - x0)) / Double(h * w)
    } else {
      mixed = try x * lam + partner * (1 - lam)
    }
    var soft = [Double](repeating: smoothing / Double(k), count: b * k)
    for i in 0..<b {
      soft[i * k + labels[i]] += lam * (1 - smoothing)
      soft[i * k + labels[b - 1 - i]] += (1 - lam) * (1 - smoothing)
    }
    return (mixed.detached(), try Tensor(soft, shape: [b, k], dtype: x.dtype))
  }

  /// A Beta(α, α) sample from two Gamma(α) samples (Marsaglia–Tsang).
  func beta(_ a: Double) -> Double {
    func gamma(_ k: Double) -> Double {
      if k < 1 { return gamma(k + 1) * pow(max(rng.nextDouble(), 1e-12), 1 / k) }
      let d = k - 1.0 / 3, c = 1 / (9 * d).squareRoot()
      while true {
        let z = rng.nextNormal(), v = pow(1 + c * z, 3)
        if v <= 0 { continue }
        if Foundation.log(max(rng.nextDouble(), 1e-300)) < 0.5 * z * z + d - d * v + d
          * Foundation.log(v)
        {
          return d * v
        }
      }
    }
    let g1 = gamma(a), g2 = gamma(a)
    // A tiny α can draw two zeros (0 / 0): the mixing weight must stay a number in 0…1.
    let lam = g1 / (g1 + g2)
    return lam.isFinite ? min(max(lam, 0), 1) : 0.5
  }

  /// Outputs per video, averaged over its clips (test-time averaging over K clips): class
  /// probabilities for classification, values for regression.
  public func predict(videos: [[Tensor]]) throws -> [[Double]] {
    model.train(false)
    defer { model.train(true) }
    return try videos.map { clips in
      var sum: [Double] = []
      for c in clips {
        var y = try withNoGrad { try model(c) }
        if case .classification = task { y = y.softmax() }
        let v = y.toDoubles()
        sum = sum.isEmpty ? v : zip(sum, v).map(+)
      }
      return sum.map { $0 / Double(max(clips.count, 1)) }
    }
  }

  /// A fine-tuner of a fresh model of the same architecture and precision with this run's
  /// settings (weights and optimizer state come from this run when they train together).
  public func replica() throws -> Finetuner {
    let copy = Finetuner(
      model: try FinetuneModel(model.config, dtype: model.head.weight.dtype), task: task,
      totalSteps: schedule.totalSteps, batch: schedule.batch)
    copy.copySettings(from: self)
    copy.model.train(model.training)
    return copy
  }

  // MARK: checkpoints

  /// Everything needed to resume fine-tuning (weights, moments, schedule, RNG, step, task, lr
  /// scales, config, log), written atomically; the clips are not stored (pass them again to
  /// `train`).
  public func save(to path: String) throws {
    let state = state(config: model.config, modelRNG: [model.rng.state])
    try writeTrainingCheckpoint(
      model: model, optimizer: optimizer, state: state, key: "svfap.finetuning", to: path)
  }

  /// A fine-tuner restored from `save(to:)`: continues exactly where the saved one stopped.
  public static func resume(from path: String) throws -> Finetuner {
    let (meta, weights, opt) = try readTrainingCheckpoint(path, key: "svfap.finetuning")
    guard let task = meta.settings.task, let scales = meta.settings.lrScale else {
      throw SVFAPError.badFile(
        path: path, message: "fine-tuning checkpoint without task or lr scales")
    }
    // The weights' own precision (a float64 run resumes in float64).
    let dtype = weights.values.first?.dtype ?? .float32
    let model = try FinetuneModel(meta.config, dtype: dtype)
    try model.load(weights, strict: true)
    let t = Finetuner(
      model: model, task: task, totalSteps: meta.settings.schedule.totalSteps,
      batch: meta.settings.schedule.batch)
    guard scales.count == t.optimizer.lrScale.count else {
      throw SVFAPError.badFile(
        path: path, message: "\(scales.count) lr scales for \(t.optimizer.lrScale.count) parameters"
      )
    }
    try t.restore(meta, moments: opt)
    if let r = meta.modelRNG?.first { t.model.rng.state = r }
    return t
  }
}
