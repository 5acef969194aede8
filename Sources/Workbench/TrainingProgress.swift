import Foundation
import Plot
import SVFAP
import Script

/// Progress of a training call: a bar redrawn in place on a terminal (step/total, loss, lr,
/// clips/s, ETA), plain lines every N steps elsewhere.
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
      let bar =
        String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
      let line = String(
        format: "\r[%@] %d/%d  loss %.4f  lr %.2e  %.1f clips/s  ETA %.0fs", bar, done, steps,
        e.loss, e.lr, e.clipsPerSecond, eta)
      FileHandle.standardOutput.write(Data(line.utf8))
      if done == steps { FileHandle.standardOutput.write(Data("\n".utf8)) }
    } else if e.step % every == 0 {
      interp.output(
        String(
          format: "step %5d  loss %.4f  lr %.2e  grad %.3f  %.1f clips/s", e.step, e.loss, e.lr,
          e.gradNorm, e.clipsPerSecond))
    }
  }

  /// The message and record field for how a call ended.
  /// In a script (`Interpreter.endOnInterrupt`) an interruption ends the run here: an
  /// `.interrupted` error once the run and its autosave are kept, so nothing after it runs.
  static func ended(_ stop: TrainingStop, step: Int, interp: Interpreter) throws -> String {
    switch stop {
    case .finished: return "finished"
    case .interrupted:
      Interrupt.clear()
      if interp.endOnInterrupt {
        throw ScriptError(
          .interrupted,
          """
          stopped by \(interp.interruptName) after step \(step): the model, the optimizer and the \
          autosave are kept, and \(interp.interruptEnds) ends here
          """)
      }
      interp.output(
        """
        stopped by \(interp.interruptName) after step \(step); the model and optimizer are kept \
        (save_state to keep them on disk)
        """
      )
      return "interrupted"
    case .nonFinite(let s):
      interp.output(
        "stopped: the loss at step \(s) is not finite; the parameters are those of step \(s - 1)")
      return "non-finite loss"
    }
  }
}
