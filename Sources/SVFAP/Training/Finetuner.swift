import Foundation
import Tensor

/// Fine-tuning of the encoder for the paper's task families: classification (cross-entropy with label
/// smoothing), regression (MSE or 1 − CCC, with the head activation of the model's config). AdamW
/// (β 0.9/0.999, wd 0.05), base lr 1e-3 per 256 clips, cosine schedule with 5% warmup, layer-wise lr
/// decay 0.75, drop path from the config, as the authors' recipe.
public final class Finetuner {
  /// The task's loss.
  public enum Task: Sendable, Equatable {
    /// Classes with label smoothing.
    case classification(smoothing: Double)
    /// Continuous targets: "mse" or "ccc" (1 − mean CCC over the targets).
    case regression(loss: String)
  }

  /// The model.
  public let model: FinetuneModel
  /// The optimizer.
  public let optimizer: AdamW
  /// Learning-rate schedule.
  public var schedule: CosineSchedule
  /// The task.
  public let task: Task
  /// Draws batches.
  public var rng: SplitMix64
  /// Every step's loss.
  public private(set) var losses: [Double] = []

  /// A fine-tuner for `totalSteps` steps of `batch` clips.
  public init(model: FinetuneModel, task: Task, totalSteps: Int, batch: Int, baseLR: Double = 1e-3, layerDecay: Double = 0.75, seed: UInt64 = 0) {
    self.model = model
    self.task = task
    var s = AdamW.Settings()
    s.beta2 = 0.999
    optimizer = AdamW(model, settings: s)
    optimizer.lrScale = layerDecayScales(names: optimizer.parameters.map(\.name), stageDepths: model.config.stageDepths, decay: layerDecay)
    schedule = CosineSchedule(baseLR: baseLR, minLR: 1e-6, warmupSteps: max(totalSteps / 20, 0), totalSteps: totalSteps, batch: batch)
    rng = SplitMix64(seed: seed)
  }

  /// The loss of outputs (B, K) against targets (class index, or K values per clip).
  public func loss(_ out: Tensor, _ targets: [[Double]]) throws -> Tensor {
    switch task {
    case .classification(let eps):
      return try out.crossEntropy(labels: targets.map { Int($0[0]) }, smoothing: eps)
    case .regression(let kind):
      let y = try Tensor(targets.flatMap { $0 }, shape: out.shape, dtype: out.dtype)
      if kind == "mse" { return try out.mse(y) }
      // 1 − CCC per target over the batch, averaged.
      let mx = try out.mean(axis: 0, keepDim: true), my = try y.mean(axis: 0, keepDim: true)
      let dx = try out - mx, dy = try y - my
      let cov = try (dx * dy).mean(axis: 0), vx = try dx.square().mean(axis: 0), vy = try dy.square().mean(axis: 0)
      let ccc = try (cov * 2) / (vx + vy + (mx - my).square().reshaped([out.shape[1]]) + 1e-8)
      return try ccc.mean().affine(-1, 1)
    }
  }

  /// Trains `steps` steps on clips (each (1, 3, T, H, W)) with their targets.
  @discardableResult
  public func train(clips: [Tensor], targets: [[Double]], steps: Int, batch: Int, shouldStop: () -> Bool = { false },
                    progress: (Int, Double) -> Void = { _, _ in }) throws -> Pretrainer.Stop {
    guard clips.count == targets.count, !clips.isEmpty else { throw SVFAPError.badConfig("need as many targets as clips (got \(clips.count) and \(targets.count))") }
    if case .classification = task, let bad = targets.first(where: { Int($0[0]) < 0 || Int($0[0]) >= model.config.numClasses }) {
      throw SVFAPError.badConfig("label \(bad[0]) is outside 0..<\(model.config.numClasses); fix the dataset before training")
    }
    model.train(true)
    for _ in 0..<steps {
      if shouldStop() { return .interrupted }
      let picks = (0..<batch).map { _ in Int(rng.next() % UInt64(clips.count)) }
      let input = try Tensor.concat(picks.map { clips[$0] }, axis: 0)
      model.zeroGrad()
      let l = try loss(model(input), picks.map { targets[$0] })
      let value = try l.item()
      guard value.isFinite else { model.zeroGrad(); return .nonFinite(step: optimizer.step + 1) }
      try l.backward()
      optimizer.update(lr: schedule.lr(at: optimizer.step))
      losses.append(value)
      progress(optimizer.step, value)
    }
    return .finished
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
}
