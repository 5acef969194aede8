/// How many steps a training call runs and the schedule of a new run, from the requests shared by
/// pretraining and fine-tuning (steps or epochs; total and warmup in steps or epochs).
public struct StepPlan: Sendable, Equatable {
  /// What the caller asked for; epochs win over steps where both are given.
  public struct Request: Sendable {
    /// Steps of this call.
    public var steps: Int
    /// Epochs of this call instead of `steps`.
    public var epochs: Double?
    /// Steps of the whole run (the cosine schedule's length).
    public var total: Int?
    /// The whole run in epochs.
    public var totalEpochs: Double?
    /// Warmup steps of a new run (nil = 5% of the total).
    public var warmup: Int?
    /// Warmup of a new run in epochs.
    public var warmupEpochs: Double?
    /// Micro-batches per optimizer update.
    public var accumulate: Int

    /// A request of `steps` steps, one micro-batch per update.
    public init(steps: Int, accumulate: Int = 1) {
      (self.steps, self.accumulate) = (steps, accumulate)
    }
  }

  /// Steps of this call.
  public let steps: Int
  /// Steps of the whole run (the cosine schedule's length; used when the run starts).
  public let total: Int
  /// Warmup steps (nil = 5% of the total).
  public let warmup: Int?
  /// Optimizer steps per epoch: ⌈clips / (batch × accumulate)⌉.
  public let stepsPerEpoch: Int

  /// The plan of `request` over `clips` clips in batches of `batch`; `defaultTotal(steps)` is the
  /// schedule length when neither total nor total epochs is given.
  public init(_ request: Request, clips: Int, batch: Int, defaultTotal: (Int) -> Int) throws {
    let accumulate = max(1, request.accumulate)
    guard batch >= 1, clips >= 1 else {
      throw ExperimentError("batch must be >= 1 and there must be clips to train on")
    }
    let perEpoch = max(1, (clips + batch * accumulate - 1) / (batch * accumulate))
    func inSteps(_ epochs: Double?) -> Int? {
      epochs.map { max(0, Int(($0 * Double(perEpoch)).rounded())) }
    }
    let n = inSteps(request.epochs) ?? request.steps
    guard n >= 0 else { throw ExperimentError("steps must be >= 0") }
    stepsPerEpoch = perEpoch
    steps = n
    total = inSteps(request.totalEpochs) ?? request.total ?? defaultTotal(n)
    warmup = inSteps(request.warmupEpochs) ?? request.warmup
  }
}
