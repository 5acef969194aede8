import Foundation
import Plot
import SVFAP
import Script
import Tensor

/// Progress of a training call: a bar redrawn in place on a terminal (step/total, loss, lr,
/// clips/s, ETA; the rest of the line cleared, and the line ended before any other message),
/// plain lines every N steps elsewhere.
final class TrainingProgress {
  let steps: Int, startStep: Int, every: Int, clipsPerStep: Int
  let terminal: Bool
  let interp: Interpreter
  /// Whether the bar's line is on screen without its line end.
  private(set) var lineOpen = false
  /// Where the bar is written (the terminal, unbuffered).
  let write: (String) -> Void
  /// In a notebook: the display updated in place instead of lines or a bar.
  let notebook: NotebookDisplay?
  private let displayID = "svfap-progress-\(UUID().uuidString)"
  private var shown = false, lastShown = 0.0

  init(
    steps: Int, startStep: Int, every: Int, clipsPerStep: Int, terminal: Bool,
    interp: Interpreter, notebook: NotebookDisplay? = nil,
    write: @escaping (String) -> Void = { FileHandle.standardOutput.write(Data($0.utf8)) }
  ) {
    (self.write, self.notebook) = (write, notebook)
    (self.steps, self.startStep, self.every, self.clipsPerStep) = (
      steps, startStep, every, clipsPerStep
    )
    (self.terminal, self.interp) = (terminal, interp)
  }

  /// Ends the bar's line if it is open (before another message, or when the call ends early).
  func endLine() {
    guard lineOpen else { return }
    lineOpen = false
    write("\n")
  }

  /// Reports one step.
  func report(_ e: StepLog) {
    let done = e.step - startStep
    if let notebook {
      // Four updates a second at most, and always the first and the last step.
      let now = monotonicSeconds()
      guard !shown || done == steps || now - lastShown >= 0.25 else { return }
      notebook(displayID, display(e, done: done), shown)
      (shown, lastShown) = (true, now)
    } else if terminal {
      let width = 24, filled = width * done / max(steps, 1)
      let eta = Double(steps - done) * Double(clipsPerStep) / max(e.clipsPerSecond, 1e-9)
      let bar =
        String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
      let line = String(
        format: "\r[%@] %d/%d  loss %.4f  lr %.2e  %.1f clips/s  ETA %.0fs\u{1B}[K", bar, done,
        steps, e.loss, e.lr, e.clipsPerSecond, eta)
      write(line)
      lineOpen = true
      if done == steps { endLine() }
    } else if e.step % every == 0 {
      interp.output(
        String(
          format: "step %5d  loss %.4f  lr %.2e  grad %.3f  %.1f clips/s", e.step, e.loss, e.lr,
          e.gradNorm, e.clipsPerSecond))
    }
  }

  /// The progress display of a step: step/total, percentage, rate, ETA and loss, as text and as an
  /// HTML progress bar.
  func display(_ e: StepLog, done: Int) -> [String: Any] {
    let percent = 100 * done / max(steps, 1)
    let eta = Double(steps - done) * Double(clipsPerStep) / max(e.clipsPerSecond, 1e-9)
    let text = String(
      format: "step %d/%d (%d %%, run step %d)  loss %.4f  lr %.2e  %.1f clips/s  ETA %.0f s",
      done, steps, percent, e.step, e.loss, e.lr, e.clipsPerSecond, eta)
    let html =
      "<progress value=\"\(done)\" max=\"\(max(steps, 1))\" style=\"width:16em\"></progress> "
      + "<code>\(RichOutput.escape(text))</code>"
    return ["text/plain": text, "text/html": html]
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
