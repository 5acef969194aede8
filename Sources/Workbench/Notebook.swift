import Foundation
import SVFAP
import SafeFiles
import Script

/// Jupyter notebooks (nbformat 4) whose code cells are in the command language: executed in one
/// session with their text, figures (image/png) and errors written into the cells; exported to one
/// self-contained HTML file; read from the plain-text percent format (`# %%` cells) as well.
public enum Notebook {
  /// A notebook that cannot be used: names the file and what is wrong.
  public struct Failure: Error, CustomStringConvertible {
    /// The message.
    public let message: String
    /// The message.
    public var description: String { message }
  }

  /// Reads an .ipynb (nbformat 4, language svfap) or a percent-format script into notebook JSON.
  public static func load(_ path: String) throws -> [String: Any] {
    let data: Data
    do { data = try SafeFile.read(path) } catch {
      throw Failure(message: "cannot read the notebook \(error)")
    }
    if !path.hasSuffix(".ipynb") { return fromPercent(String(decoding: data, as: UTF8.self)) }
    guard let nb = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
      throw Failure(message: "\(path): not valid JSON")
    }
    guard nb["nbformat"] as? Int == 4, let cells = nb["cells"] as? [[String: Any]] else {
      throw Failure(message: "\(path): not an nbformat 4 notebook")
    }
    let language =
      ((nb["metadata"] as? [String: Any])?["kernelspec"] as? [String: Any])?["language"] as? String
      ?? ((nb["metadata"] as? [String: Any])?["language_info"] as? [String: Any])?["name"]
      as? String
    if let language, language != "svfap" {
      throw Failure(message: "\(path): the notebook's language is '\(language)', not svfap")
    }
    for (i, c) in cells.enumerated() {
      if let lang = (c["metadata"] as? [String: Any])?["language"] as? String, lang != "svfap",
        c["cell_type"] as? String == "code"
      {
        throw Failure(message: "\(path): cell \(i + 1) is in '\(lang)', not svfap")
      }
    }
    return nb
  }

  /// The percent format: `# %%` starts a code cell, `# %% [markdown]` a markdown cell (lines "#
  /// text").
  public static func fromPercent(_ text: String) -> [String: Any] {
    var cells: [[String: Any]] = []
    var kind = "code", lines: [String] = [], tags: [String] = []
    func flush() {
      let body = lines.joined(separator: "\n").trimmingCharacters(in: .newlines)
      if !body.isEmpty { cells.append(cell(kind, body, tags: tags)) }
      lines = []
    }
    for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
      if line.hasPrefix("# %%") {
        flush()
        kind = line.contains("[markdown]") ? "markdown" : "code"
        tags =
          line.contains("tags=[\"parameters\"]")
            || line.contains("parameters") && !line.contains("[markdown]") ? ["parameters"] : []
        continue
      }
      lines.append(
        kind == "markdown"
          ? String(line.drop(while: { $0 == "#" }).drop(while: { $0 == " " })) : line)
    }
    flush()
    return skeleton(cells)
  }

  static func cell(_ kind: String, _ source: String, tags: [String] = []) -> [String: Any] {
    var c: [String: Any] = [
      "cell_type": kind, "id": UUID().uuidString.lowercased().prefix(8).description,
      "metadata": tags.isEmpty ? [:] : ["tags": tags],
      "source": lines(source),
    ]
    if kind == "code" {
      c["outputs"] = []
      c["execution_count"] = NSNull()
    }
    return c
  }

  static func skeleton(_ cells: [[String: Any]]) -> [String: Any] {
    [
      "cells": cells, "nbformat": 4, "nbformat_minor": 5,
      "metadata": [
        "kernelspec": ["name": "svfap", "display_name": "SVFAP Workbench", "language": "svfap"],
        "language_info": ["name": "svfap", "file_extension": ".svfap"],
      ],
    ]
  }

  static func lines(_ s: String) -> [String] {
    let parts = s.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    return parts.enumerated().map { $0.offset < parts.count - 1 ? $0.element + "\n" : $0.element }
      .filter { !$0.isEmpty }
  }

  static func text(_ source: Any?) -> String {
    if let s = source as? String { return s }
    return (source as? [String])?.joined() ?? ""
  }

  /// Executes every code cell in one session; stops at the first error unless `allowErrors`.
  /// `parameters` (NAME → expression) are assigned in a cell injected after the cell tagged
  /// "parameters". Returns the executed notebook and whether every cell succeeded. A cell that runs
  /// longer than `cellTimeout` seconds is interrupted at its next safe point (as Ctrl-C would) and
  /// marked `CellTimeout`; Ctrl-C itself marks the running cell `KeyboardInterrupt` and stops the
  /// run, so the notebook written holds every cell that ran.
  ///
  /// `afterCell` receives the notebook as it stands after each cell (the cells that ran with their
  /// outputs, the rest cleared), so a caller can write it as it runs: a process killed mid-run then
  /// leaves the notebook up to its last finished cell. A cell whose `source` is not text, or whose
  /// `cell_type` is none of code, markdown and raw, is an error of that cell, not skipped in silence.
  public static func execute(
    _ nbIn: [String: Any], directory: String, allowErrors: Bool,
    parameters: [(String, String)] = [], cellTimeout: Double? = nil,
    afterCell: (([String: Any]) -> Void)? = nil
  ) -> ([String: Any], Bool) {
    var nb = nbIn
    var cells = nb["cells"] as? [[String: Any]] ?? []
    if !parameters.isEmpty {
      let code = parameters.map { "\($0.0) = \($0.1)" }.joined(separator: "\n")
      let at =
        (cells.firstIndex {
          (($0["metadata"] as? [String: Any])?["tags"] as? [String])?.contains("parameters")
            ?? false
        }).map { $0 + 1 } ?? 0
      cells.insert(cell("code", code, tags: ["injected-parameters"]), at: at)
    }
    let session = Session()
    session.interpreter.currentDirectory = directory
    session.interpreter.endOnInterrupt = true  // Ctrl-C ends the notebook's run, not one cell
    session.interpreter.interruptEnds = "the notebook's run"
    var ok = true, count = 0, stopped = false
    let watchdog = CellWatchdog()
    /// The notebook with cells ..<done as they ran and the code cells after them cleared.
    func snapshot(upTo done: Int) -> [String: Any] {
      var out = nb, shown = cells
      for j in shown.indices.dropFirst(done) where shown[j]["cell_type"] as? String == "code" {
        shown[j]["outputs"] = []
        shown[j]["execution_count"] = NSNull()
      }
      out["cells"] = shown
      return out
    }
    for i in cells.indices {
      let kind = cells[i]["cell_type"] as? String
      if let problem = cellProblem(cells[i], index: i) {
        ok = false
        cells[i]["outputs"] = [
          [
            "output_type": "error", "ename": "NotebookError", "evalue": problem,
            "traceback": [problem],
          ] as [String: Any]
        ]
        afterCell?(snapshot(upTo: i + 1))
        continue
      }
      guard kind == "code" else { continue }
      guard (ok || allowErrors) && !stopped else {
        cells[i]["outputs"] = []
        cells[i]["execution_count"] = NSNull()
        continue
      }
      count += 1
      let run = CellRun(
        text(cells[i]["source"]), number: count, in: session, watchdog: watchdog,
        timeout: cellTimeout)
      ok = ok && !run.failed
      stopped = run.stopsNotebook
      let outputs = run.outputs
      cells[i]["outputs"] = outputs
      cells[i]["execution_count"] = count
      afterCell?(snapshot(upTo: i + 1))
    }
    nb["cells"] = cells
    return (nb, ok)
  }

  /// Why a cell cannot run as it is (an unknown type, a source that is not text), or nil.
  static func cellProblem(_ cell: [String: Any], index: Int) -> String? {
    let kind = cell["cell_type"] as? String
    guard let kind, ["code", "markdown", "raw"].contains(kind) else {
      return
        "cell \(index + 1) has cell_type \(kind.map { "'\($0)'" } ?? "missing"): a notebook has code, markdown and raw cells only"
    }
    let source = cell["source"]
    if source == nil || source is String { return nil }
    if let parts = source as? [Any], parts.allSatisfy({ $0 is String }) { return nil }
    return "cell \(index + 1)'s source is not text (a string or a list of strings)"
  }

  /// Writes notebook JSON atomically (an earlier file is replaced only by a complete one).
  public static func write(_ nb: [String: Any], to path: String) throws {
    let data = try JSONSerialization.data(
      withJSONObject: nb, options: [.prettyPrinted, .sortedKeys])
    do { try writeAtomically(data, to: path) } catch { throw Failure(message: "\(error)") }
  }

  /// One self-contained HTML page: markdown as preformatted text blocks, code, outputs, figures
  /// inline.
  public static func html(_ nb: [String: Any], title: String) -> String {
    func esc(_ s: String) -> String {
      s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        .replacingOccurrences(of: ">", with: "&gt;")
    }
    var body = ""
    for c in nb["cells"] as? [[String: Any]] ?? [] {
      let src = text(c["source"])
      if c["cell_type"] as? String == "markdown" {
        for line in src.split(separator: "\n") {
          let l = String(line)
          if l.hasPrefix("#") {
            let level = min(l.prefix { $0 == "#" }.count, 4)
            body += "<h\(level)>\(esc(String(l.drop { $0 == "#" || $0 == " " })))</h\(level)>\n"
          } else {
            body += "<p>\(esc(l))</p>\n"
          }
        }
        continue
      }
      let n = (c["execution_count"] as? Int).map(String.init) ?? " "
      body += "<div class=cell><div class=prompt>[\(n)]</div><pre class=code>\(esc(src))</pre>\n"
      for o in c["outputs"] as? [[String: Any]] ?? [] {
        switch o["output_type"] as? String {
        case "stream": body += "<pre class=out>\(esc(text(o["text"])))</pre>\n"
        case "display_data":
          if let png = (o["data"] as? [String: Any])?["image/png"] as? String {
            body += "<img src=\"data:image/png;base64,\(png)\">\n"
          }
        case "error":
          body +=
            """
            <pre \
            class=err>\(esc(((o["traceback"] as? [String]) ?? []).joined(separator: "\n")))</pre>\n
            """
        default: break
        }
      }
      body += "</div>\n"
    }
    return """
      <!DOCTYPE html><html><head><meta charset="utf-8"><title>\(esc(title))</title><style>
      body{font-family:sans-serif;max-width:1100px;margin:2em auto}pre{padding:.5em;overflow-x:auto}
      .code{background:#f4f4f4}.out{background:#fff;border-left:3px solid #ccc}.err{background:#fee}.prompt{color:#888;font-size:80%}
      img{max-width:100%}</style></head><body>
      \(body)</body></html>
      """
  }
}

/// Interrupts the running cell (through the Ctrl-C flag, so it stops at a safe point) once it has
/// run longer than its timeout.
final class CellWatchdog: @unchecked Sendable {
  private let lock = NSLock()
  private var deadline: Double?
  private var didFire = false
  private var thread: Thread?

  /// Whether the last cell was interrupted by its timeout.
  var fired: Bool { lock.withLock { didFire } }

  /// Arms the watchdog for a cell (nil: no timeout).
  func start(_ timeout: Double?) {
    lock.withLock {
      didFire = false
      deadline = timeout.map { ProcessInfo.processInfo.systemUptime + $0 }
    }
    guard timeout != nil, thread == nil else { return }
    let t = Thread { [weak self] in
      while let self {
        usleep(20_000)
        self.lock.withLock {
          if let d = self.deadline, ProcessInfo.processInfo.systemUptime > d {
            self.deadline = nil
            self.didFire = true
            Interrupt.request()
          }
        }
      }
    }
    thread = t
    t.start()
  }

  /// Disarms it after the cell.
  func stop() {
    lock.withLock {
      deadline = nil
      // a cell that ended just as it fired must not stop the next one
      if didFire { Interrupt.clear() }
    }
  }
}
