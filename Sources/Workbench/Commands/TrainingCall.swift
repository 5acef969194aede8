import Foundation
import SVFAP
import Script

/// What `train` and `finetune` share around the run's step loop: progress lines or bar, autosave
/// after steps, the final autosave, and the message and record of how the call ended.
struct TrainingCall {
  let session: Session
  let interp: Interpreter
  let options: RunOptions
  /// "pretrain" or "finetune": the autosave file's name.
  let name: String

  /// Runs `steps` on `run` through `body`, which gets the per-step report to hand to the trainer;
  /// `extra` runs after each step's report (the live plot). Returns how the call ended.
  func run(
    _ run: TrainingRun, steps: Int, clipsPerStep: Int, terminalBar: Bool = true,
    extra: @escaping (StepLog) -> Void = { _ in },
    _ body: (_ report: @escaping (StepLog) -> Void) throws -> TrainingStop
  ) throws -> String {
    run.collective = session.collective
    let progress = TrainingProgress(
      steps: steps, startStep: run.step, every: options.every, clipsPerStep: clipsPerStep,
      terminal: isatty(1) == 1 && session.interactive && terminalBar, interp: interp)
    let (session, autosave, name) = (session, options.autosave, name)
    let stop = try body { e in
      progress.report(e)
      extra(e)
      session.autosaveStep(run, name: name, enabled: autosave)
    }
    session.autosaveStep(run, name: name, enabled: autosave, force: true)
    return TrainingProgress.ended(stop, step: run.step, interp: interp)
  }
}
