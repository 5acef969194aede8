import Foundation
import Script

/// One code cell run in a session: its outputs in order (stdout text, figures as PNG display data,
/// an error), whether it failed, and whether the failure stops the notebook (Ctrl-C does; a cell
/// timeout or an ordinary error does not).
struct CellRun {
  /// Jupyter outputs (`stream`, `display_data`, `error`).
  private(set) var outputs: [[String: Any]] = []
  /// Whether the cell ended in an error.
  private(set) var failed = false
  /// Whether the run of the notebook stops here (Ctrl-C).
  private(set) var stopsNotebook = false
  private var stream = ""

  /// Runs `source` as cell `number` of `session`; a run past `timeout` seconds is interrupted.
  init(_ source: String, number: Int, in session: Session, watchdog: CellWatchdog, timeout: Double?)
  {
    var run = self
    session.interpreter.output = { line in run.output(line) }
    watchdog.start(timeout)
    defer { watchdog.stop() }
    do {
      try session.interpreter.run(source, file: "cell \(number)")
    } catch let e as ScriptError where e.kind == .interrupted {
      let timedOut = watchdog.fired
      let name = timedOut ? "CellTimeout" : "KeyboardInterrupt"
      let message =
        timedOut
        ? "the cell ran longer than \(Value.format(timeout ?? 0)) s and was interrupted"
        : "interrupted by Ctrl-C"
      run.fail([
        "output_type": "error", "ename": name, "evalue": message,
        "traceback": [e.description, message],
      ])
      run.stopsNotebook = !timedOut
    } catch let e as ScriptError {
      let traceback = e.description.split(separator: "\n").map(String.init)
      run.fail([
        "output_type": "error", "ename": "ScriptError", "evalue": e.message, "traceback": traceback,
      ])
    } catch {
      run.fail([
        "output_type": "error", "ename": "Error", "evalue": "\(error)", "traceback": ["\(error)"],
      ])
    }
    run.flushStream()
    self = run
  }

  /// A line the cell printed: a figure becomes display data, anything else stdout text.
  private mutating func output(_ line: String) {
    if let data = FigureDisplay.data(forLine: line) {
      flushStream()
      outputs.append(["output_type": "display_data", "metadata": [:], "data": data])
    } else {
      stream += line + "\n"
    }
  }

  private mutating func fail(_ error: [String: Any]) {
    flushStream()
    outputs.append(error)
    failed = true
  }

  private mutating func flushStream() {
    guard !stream.isEmpty else { return }
    outputs.append(["output_type": "stream", "name": "stdout", "text": Notebook.lines(stream)])
    stream = ""
  }
}
