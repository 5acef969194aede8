import Foundation
import Plot
import SVFAP
import Script

/// How many steps a `train`/`finetune` call runs and the schedule of a new run, from the options
/// shared by both (steps or epochs; total and warmup in steps or epochs).
struct StepPlan {
  /// Steps of this call.
  let steps: Int
  /// Steps of the whole run (the cosine schedule's length; used when the run starts).
  let total: Int
  /// Warmup steps (nil = 5% of the total).
  let warmup: Int?
  /// Optimizer steps per epoch: ⌈clips / (batch × accumulate)⌉.
  let stepsPerEpoch: Int

  /// The options every training command takes.
  static let params: [Param] = [
    .option("epochs", .number, "run this many epochs instead of `steps` (an epoch = clips / (batch x accumulate) steps)", default: .nilValue).within(
      Limits.epochs),
    .option("warmup", .integer, "warmup steps of a new run (default 5% of the total)", default: .nilValue).within(Limits.steps),
    .option("warmup_epochs", .number, "warmup of a new run in epochs", default: .nilValue).within(Limits.epochs),
    .option("total_epochs", .number, "length of a new run's schedule in epochs", default: .nilValue).within(Limits.epochs),
    .option("clip_grad", .number, "gradient-norm clip", default: .nilValue).within(0...1e9),
    .option("accumulate", .integer, "micro-batches per update (effective batch = batch x accumulate)", default: .number(1)).within(Limits.accumulate),
    .option("log", .string, "JSON-lines log file, one object per step", default: .nilValue),
    .option("every", .integer, "print a progress line every N steps (off a terminal)", default: .number(10)).within(1...Limits.steps.upperBound),
    .option(
      "autosave", .bool, "checkpoint the run into the session's autosave folder as it trains (set autosave_every:, autosave_minutes:)", default: .bool(true)),
  ]

  /// Reads the plan; `defaultTotal` is the schedule length when neither total nor total_epochs is given.
  init(_ a: Arguments, clips: Int, batch: Int, defaultTotal: (Int) -> Int) throws {
    let accumulate = max(1, try a.int("accumulate"))
    guard batch >= 1, clips >= 1 else { throw ScriptError(.runtime, "\(a.command): batch must be >= 1 and there must be clips to train on", at: a.location) }
    let perEpoch = max(1, (clips + batch * accumulate - 1) / (batch * accumulate))
    func epochs(_ name: String) throws -> Int? { a.has(name) ? max(0, Int((try a.number(name) * Double(perEpoch)).rounded())) : nil }
    let n = try epochs("epochs") ?? a.int("steps")
    guard n >= 0 else { throw ScriptError(.runtime, "\(a.command): steps must be >= 0", at: a.location) }
    stepsPerEpoch = perEpoch
    steps = n
    total = try epochs("total_epochs") ?? (a.has("total") ? a.int("total") : defaultTotal(n))
    warmup = try epochs("warmup_epochs") ?? (a.has("warmup") ? a.int("warmup") : nil)
  }
}

/// Progress of a training call: a bar redrawn in place on a terminal (step/total, loss, lr, clips/s,
/// ETA), plain lines every N steps elsewhere.
struct TrainingProgress {
  let steps: Int, startStep: Int, every: Int, clipsPerStep: Int
  let terminal: Bool
  let interp: Interpreter

  /// Reports one step.
  func report(_ e: StepLog) {
    let done = e.step - startStep
    if terminal {
      let width = 24, filled = width * done / max(steps, 1)
      let eta = Double(steps - done) * Double(clipsPerStep) / max(e.clipsPerSecond, 1e-9)
      let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
      let line = String(format: "\r[%@] %d/%d  loss %.4f  lr %.2e  %.1f clips/s  ETA %.0fs", bar, done, steps, e.loss, e.lr, e.clipsPerSecond, eta)
      FileHandle.standardOutput.write(Data(line.utf8))
      if done == steps { FileHandle.standardOutput.write(Data("\n".utf8)) }
    } else if e.step % every == 0 {
      interp.output(String(format: "step %5d  loss %.4f  lr %.2e  grad %.3f  %.1f clips/s", e.step, e.loss, e.lr, e.gradNorm, e.clipsPerSecond))
    }
  }

  /// The message and record field for how a call ended.
  static func ended(_ stop: TrainingStop, step: Int, interp: Interpreter) -> String {
    switch stop {
    case .finished: return "finished"
    case .interrupted:
      Interrupt.clear()
      interp.output("stopped by Ctrl-C after step \(step); the model and optimizer are kept (save_state to keep them on disk)")
      return "interrupted"
    case .nonFinite(let s):
      interp.output("stopped: the loss at step \(s) is not finite; the parameters are those of step \(s - 1)")
      return "non-finite loss"
    }
  }
}
