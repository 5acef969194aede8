import Experiments
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
  /// What replicas on other threads had to say (skipped rows), said after the call.
  private let deferred = DeferredLines()

  /// Runs `steps` on `run` through `body`, which gets the run to train (itself, or a thread's
  /// replica when the call splits its batches over `split` threads) and the per-step report to hand
  /// to the trainer (a no-op on replicas); `extra` runs after each step's report (the live plot).
  /// Returns how the call ended.
  func run<R: TrainingRun>(
    _ run: R, steps: Int, clipsPerStep: Int, split: Int = 1, terminalBar: Bool = true,
    extra: @escaping (StepLog) -> Void = { _ in },
    _ body: @escaping (_ run: R, _ report: @escaping (StepLog) -> Void) throws -> TrainingStop
  ) throws -> String {
    run.collective = session.collective
    let progress = TrainingProgress(
      steps: steps, startStep: run.step, every: options.every, clipsPerStep: clipsPerStep,
      terminal: isatty(1) == 1 && session.interactive && terminalBar, interp: interp,
      notebook: session.notebookDisplay)
    let (session, autosave, name) = (session, options.autosave, name)
    let report: (StepLog) -> Void = { e in
      progress.report(e)
      extra(e)
      session.autosaveStep(run, name: name, enabled: autosave)
    }
    // Any message during the call first ends the progress bar's line.
    let print = interp.output
    interp.output = { text in
      progress.endLine()
      print(text)
    }
    defer {
      interp.output = print
      progress.endLine()
    }
    let stop = try SplitTraining.run(run, members: split) { member, index in
      try body(member, index == 0 ? report : { _ in })
    }
    progress.endLine()
    session.autosaveStep(run, name: name, enabled: autosave, force: true)
    return try TrainingProgress.ended(stop, step: run.step, interp: interp)
  }

  /// Where a data source reports skipped rows: the session (every rank) for the main run; kept
  /// for after the call on a replica's thread.
  func rowReport(main: Bool) -> (String) -> Void {
    if main { return { [session] in session.sayOnEveryRank($0) } }
    return { [deferred] in deferred.append($0) }
  }

  /// Says what replicas kept for after the call.
  func flushRowReports() {
    for line in deferred.take() { session.sayOnEveryRank(line) }
  }
}

/// Lines written by other threads, read back on the session's.
final class DeferredLines: @unchecked Sendable {  // `lines` is guarded by `lock`
  private var lines: [String] = []
  private let lock = NSLock()

  /// Keeps a line.
  func append(_ line: String) {
    lock.lock()
    lines.append(line)
    lock.unlock()
  }

  /// The kept lines, emptied.
  func take() -> [String] {
    lock.lock()
    defer { lock.unlock() }
    let out = lines
    lines = []
    return out
  }
}
