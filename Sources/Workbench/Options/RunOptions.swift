import Experiments
import Script

/// What a new run does with a log file that already holds steps.
enum LogMode: String, CaseIterable {
  /// Refuse it (one run per log file).
  case new
  /// Empty it first.
  case overwrite
  /// Add this run after the steps in it.
  case append
}

/// The options every training command shares: how long (steps or epochs), the schedule of a new
/// run, clipping, accumulation, logging, progress and autosave.
struct RunOptions {
  /// Their declarations.
  static let params: [Param] = [
    .option(
      "epochs", .number,
      "run this many epochs instead of `steps` (an epoch = clips / (batch x accumulate) steps)",
      default: .nilValue
    )
    .within(Limits.epochs),
    .option(
      "warmup", .integer, "warmup steps of a new run (default 5% of the total)", default: .nilValue
    ).within(Limits.steps),
    .option("warmup_epochs", .number, "warmup of a new run in epochs", default: .nilValue).within(
      Limits.epochs),
    .option("total_epochs", .number, "length of a new run's schedule in epochs", default: .nilValue)
      .within(Limits.epochs),
    .option("clip_grad", .number, "gradient-norm clip", default: .nilValue).within(0...1e9),
    .option(
      "accumulate", .integer, "micro-batches per update (effective batch = batch x accumulate)",
      default: .number(1)
    )
    .within(Limits.accumulate),
    .option("log", .string, "JSON-lines log file, one object per step", default: .nilValue),
    .choice(
      "log_mode", LogMode.self,
      """
      a new run's log that already holds steps: "new" refuses it, "overwrite" empties it, \
      "append" adds this run after it
      """,
      default: .new),
    .option(
      "every", .integer, "print a progress line every N steps (off a terminal)",
      default: .number(10)
    ).within(1...Limits.steps.upperBound),
    .option(
      "autosave", .bool,
      """
      checkpoint the run into the session's autosave folder as it trains (set autosave_every:, \
      autosave_minutes:)
      """,
      default: .bool(true)),
    .option(
      "restart", .bool,
      "start a new run even if this model was trained in this session (its schedule from this call)",
      default: .bool(false)),
  ]

  /// Steps or epochs of this call and the schedule of a new run.
  let request: StepPlan.Request
  /// Gradient-norm clip (nil: keep the run's).
  let clipGrad: Double?
  /// JSON-lines log path (nil: keep the run's).
  let logPath: String?
  /// Progress every N steps off a terminal.
  let every: Int
  /// Whether the run is autosaved as it trains.
  let autosave: Bool

  /// Reads the options of a call (`steps` and `total` are the command's own).
  init(_ a: Arguments, session: Session) throws {
    var r = StepPlan.Request(steps: try a.int("steps"), accumulate: max(1, try a.int("accumulate")))
    (r.epochs, r.total, r.totalEpochs) = (
      try a.numberIfGiven("epochs"), try a.intIfGiven("total"), try a.numberIfGiven("total_epochs")
    )
    (r.warmup, r.warmupEpochs) = (try a.intIfGiven("warmup"), try a.numberIfGiven("warmup_epochs"))
    request = r
    clipGrad = try a.numberIfGiven("clip_grad")
    logPath = try a.stringIfGiven("log").map(session.resolve)
    every = max(1, try a.int("every"))
    autosave = try a.bool("autosave")
  }

  /// Micro-batches per update.
  var accumulate: Int { request.accumulate }

  /// The plan over `clips` clips in batches of `batch`.
  func plan(_ a: Arguments, clips: Int, batch: Int, defaultTotal: (Int) -> Int) throws -> StepPlan {
    try a.located { try StepPlan(request, clips: clips, batch: batch, defaultTotal: defaultTotal) }
  }
}
