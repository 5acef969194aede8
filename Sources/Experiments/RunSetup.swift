import SVFAP

/// The settings of a fine-tuning run: those that fix a new run (task, lr, layer decay, frozen
/// encoder) and those every call may change (mixup, cutmix, clipping, accumulation, log).
public struct FinetuneSettings: Sendable {
  /// Classification with label smoothing, or regression with its loss.
  public var task: Finetuner.Task
  /// Base learning rate per 256 clips (new run).
  public var baseLR = 1e-3
  /// Layer-wise lr decay (new run).
  public var layerDecay = 0.75
  /// Train only fc_norm and the head (new run).
  public var freezeEncoder = false
  /// Mixup and cutmix alphas (0 = off).
  public var mixup = 0.0, cutmix = 0.0
  /// Gradient-norm clip (nil: keep the run's).
  public var clipGrad: Double?
  /// Micro-batches per update.
  public var accumulate = 1
  /// JSON-lines log (nil: keep the run's).
  public var logPath: String?

  /// Settings of a task, the rest at their defaults.
  public init(task: Finetuner.Task) { self.task = task }
}

/// The settings of a pretraining run.
public struct PretrainSettings: Sendable {
  /// Base learning rate per 256 clips (new run).
  public var baseLR = 3e-4
  /// Tube mask ratio.
  public var maskRatio = 0.9
  /// Gradient-norm clip (nil: keep the run's).
  public var clipGrad: Double?
  /// Micro-batches per update.
  public var accumulate = 1
  /// JSON-lines log (nil: keep the run's).
  public var logPath: String?

  /// Default settings.
  public init() {}
}

extension Finetuner {
  /// A new run of `model` over `plan` (its total and warmup) with clips of `batch` per micro-batch.
  public static func start(
    _ model: FinetuneModel, _ s: FinetuneSettings, plan: StepPlan, batch: Int, seed: UInt64
  ) -> Finetuner {
    let run = Finetuner(
      model: model, task: s.task, totalSteps: plan.total, batch: batch * max(1, s.accumulate),
      baseLR: s.baseLR, layerDecay: s.layerDecay,
      warmupSteps: plan.warmup, frozenEncoder: s.freezeEncoder, seed: seed)
    run.apply(s)
    return run
  }

  /// Applies the settings a call may change.
  public func apply(_ s: FinetuneSettings) {
    (mixupAlpha, cutmixAlpha) = (s.mixup, s.cutmix)
    if let c = s.clipGrad { clipGrad = c }
    accumulate = max(1, s.accumulate)
    if let p = s.logPath { logPath = p }
  }
}

extension Pretrainer {
  /// A new run of `model` over `plan` with clips of `batch` per micro-batch.
  public static func start(
    _ model: PretrainModel, _ s: PretrainSettings, plan: StepPlan, batch: Int, seed: UInt64
  ) -> Pretrainer {
    let run = Pretrainer(
      model: model, totalSteps: plan.total, batch: batch * max(1, s.accumulate), baseLR: s.baseLR,
      maskRatio: s.maskRatio, seed: seed)
    if let w = plan.warmup { run.schedule.warmupSteps = w }
    run.apply(s)
    return run
  }

  /// Applies the settings a call may change.
  public func apply(_ s: PretrainSettings) {
    maskRatio = s.maskRatio
    if let c = s.clipGrad { clipGrad = c }
    accumulate = max(1, s.accumulate)
    if let p = s.logPath { logPath = p }
  }
}
