import Foundation
import Script

/// The machine protocol behind the Jupyter kernel (`svfap kernel`): one session per process; each
/// request is a JSON object on a line of stdin, each event one on a line of stdout.
///
/// Requests: `{"type": "execute", "code"}`, `{"type": "complete", "code", "cursor"}`,
/// `{"type": "inspect", "code", "cursor"}`, `{"type": "is_complete", "code"}`, `{"type": "history"}`,
/// `{"type": "shutdown"}`. Execute answers with `stream` (stdout text, line by line as it is printed),
/// `display_data` (each figure: PNG, SVG where made, text/plain; progress and live curves with a
/// `transient.display_id`, then `update_display_data` for the same id), `error` (ename, evalue,
/// traceback), `execute_result` (the value of the cell's last statement when it is an expression:
/// text/plain, and text/html for records) and finally `done` (status, execution_count); the others
/// answer with one `reply`.
public final class KernelSession {
  /// The session cells run in.
  public let session: Session
  /// Where events go (one JSON object each).
  let emit: ([String: Any]) -> Void
  private var executionCount = 0
  private var history: [String] = []

  /// A kernel session writing its events to `emit`.
  public init(directory: String, emit: @escaping ([String: Any]) -> Void) {
    session = Session()
    session.interpreter.currentDirectory = directory
    // As IPython: an interrupted cell ends with an error (KeyboardInterrupt), so the front end
    // drops the queued cells instead of running them on a half-trained model.
    session.interpreter.endOnInterrupt = true
    (session.interpreter.interruptName, session.interpreter.interruptEnds) = (
      "the interrupt", "the cell"
    )
    session.interpreter.displayLastOnly = true  // one result per cell, the last expression's
    self.emit = emit
    session.notebookDisplay = { id, data, update in
      emit([
        "type": update ? "update_display_data" : "display_data", "data": data,
        "metadata": [String: Any](), "transient": ["display_id": id],
      ])
    }
  }

  /// Handles one request line; returns false after `shutdown`.
  public func handle(line: String) -> Bool {
    guard let data = line.data(using: .utf8),
      let request = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
      let type = request["type"] as? String
    else {
      emit([
        "type": "reply", "status": "error",
        "evalue": "not a JSON request object: \(line.prefix(200))",
      ])
      return true
    }
    let code = request["code"] as? String ?? "", cursor = request["cursor"] as? Int ?? code.count
    switch type {
    case "execute": execute(code, silent: request["silent"] as? Bool ?? false)
    case "complete": emit(completion(code, cursor))
    case "inspect": emit(inspection(code, cursor))
    case "is_complete": emit(completeness(code))
    case "history": emit(["type": "reply", "status": "ok", "history": history])
    case "shutdown":
      emit(["type": "reply", "status": "ok"])
      return false
    default: emit(["type": "reply", "status": "error", "evalue": "unknown request type '\(type)'"])
    }
    return true
  }

  /// Runs a cell, streaming its output; a figure's line becomes display data.
  func execute(_ code: String, silent: Bool) {
    executionCount += 1
    if !silent { history.append(code) }
    Interrupt.clear()  // an interrupt that arrived between cells is not this cell's
    session.interpreter.output = { [emit] line in
      if let data = FigureDisplay.data(forLine: line) {
        emit(["type": "display_data", "data": data, "metadata": [String: Any]()])
      } else {
        emit(["type": "stream", "name": "stdout", "text": line + "\n"])
      }
    }
    // A statement's shown value (a bare expression) is the cell's result, as in Jupyter.
    session.interpreter.display = { [emit, executionCount] value in
      emit([
        "type": "execute_result", "execution_count": executionCount,
        "data": RichOutput.bundle(value),
      ])
    }
    var status = "ok"
    do {
      try session.interpreter.run(code, file: "cell \(executionCount)")
    } catch let e as ScriptError {
      status = "error"
      let name = e.kind == .interrupted ? "KeyboardInterrupt" : "ScriptError"
      Interrupt.clear()
      emit([
        "type": "error", "ename": name, "evalue": e.message,
        "traceback": e.description.split(separator: "\n").map(String.init),
      ])
    } catch {
      status = "error"
      emit(["type": "error", "ename": "Error", "evalue": "\(error)", "traceback": ["\(error)"]])
    }
    emit(["type": "done", "status": status, "execution_count": executionCount])
  }

  /// Names that complete the word before the cursor.
  func completion(_ code: String, _ cursor: Int) -> [String: Any] {
    // The REPL's completion by context: paths in strings, fields after a dot, options, names.
    let r = session.interpreter.completion(in: code, at: cursor)
    return [
      "type": "reply", "status": "ok", "matches": r.matches, "cursor_start": r.start,
      "cursor_end": r.end,
    ]
  }

  /// What Shift-Tab shows at the cursor: a variable's value, a command's help, or the help of the
  /// call around the cursor with its current option marked.
  func inspection(_ code: String, _ cursor: Int) -> [String: Any] {
    guard let text = session.interpreter.inspection(in: code, at: cursor) else {
      return ["type": "reply", "status": "ok", "found": false]
    }
    return ["type": "reply", "status": "ok", "found": true, "text": text]
  }

  /// Whether the code is complete, still inside an open block, bracket or string, or invalid.
  func completeness(_ code: String) -> [String: Any] {
    let status = session.interpreter.completeness(code)
    var reply: [String: Any] = ["type": "reply", "status": status.rawValue]
    if status == .incomplete { reply["indent"] = "  " }
    return reply
  }
}
