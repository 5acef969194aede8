import Foundation
import TestSupport
import Testing

@testable import Workbench

/// Notebook execution: nbformat structure (validated with Python's nbformat), errors,
/// --allow-errors, parameters, HTML export; and every notebook of notebooks/ runs end to end.
@Suite(
  .serialized, .tags(.gnuplot, .python),
  .enabled(
    if: installed("gnuplot") && installed("python3"),
    "gnuplot or python3 is not installed (scripts/setup installs them)"))
struct NotebookTests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

  func validate(_ path: String) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = [
      "python3", "-c",
      """
      import nbformat, sys; nbformat.validate(nbformat.read(sys.argv[1], as_version=4)); \
      print('valid')
      """,
      path,
    ]
    let out = Pipe()
    p.standardOutput = out
    p.standardError = out
    try p.run()
    let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    return text
  }

  func tmp() throws -> String {
    let d = FileManager.default.temporaryDirectory.appendingPathComponent(
      "svfap-nb-\(UUID().uuidString)"
    ).path
    try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
    return d
  }

  let source = """
    # %% [markdown]
    # # A test notebook
    # %% parameters
    n = 2
    # %%
    print "n is {n}"
    show_confusion [0, 1] [0, 1] file: "cm.png"
    # %%
    print 1 / 0
    # %%
    print "after the error"
    """

  @Test func aCellPastItsTimeoutIsInterruptedAndMarked() throws {
    let dir = try tmp()
    let nb = Notebook.fromPercent(
      "# %%\nx = 1\n# %%\nwhile true { x = x + 1 }\n# %%\nprint \"never\"\n")
    let t0 = Date()
    let (done, ok) = Notebook.execute(nb, directory: dir, allowErrors: false, cellTimeout: 0.3)
    #expect(!ok && Date().timeIntervalSince(t0) < 10)
    let cells = done["cells"] as? [[String: Any]] ?? []
    let names = cells.map {
      (($0["outputs"] as? [[String: Any]]) ?? []).compactMap { $0["ename"] as? String }
    }
    #expect(names == [[], ["CellTimeout"], []])
    #expect(cells.last?["execution_count"] is NSNull)
  }

  @Test func ctrlCWritesWhatRanWithTheCellMarked() throws {
    let dir = try tmp()
    try "# %%\nprint \"first\"\n# %%\nwhile true { x = 1 }\n# %%\nprint \"never\"\n".write(
      toFile: dir + "/long.svfap", atomically: true, encoding: .utf8)
    let pid = try spawnProcess(
      REPLTests.svfap, ["notebook", "run", dir + "/long.svfap", "-o", dir + "/long.ipynb"],
      stdout: dir + "/out.txt")
    usleep(1_500_000)
    kill(pid, SIGINT)
    var status: Int32 = 0
    waitpid(pid, &status, 0)
    #expect((status >> 8) & 0xFF == 130, "exit status \(status)")
    let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/long.ipynb"))
    let nb = try JSONSerialization.jsonObject(with: data) as? [String: Any]
    let cells = nb?["cells"] as? [[String: Any]] ?? []
    let names = cells.map {
      (($0["outputs"] as? [[String: Any]]) ?? []).compactMap { $0["ename"] as? String }
    }
    #expect(names == [[], ["KeyboardInterrupt"], []])
    #expect(try validate(dir + "/long.ipynb").contains("valid"))
  }

  @Test func aKilledRunLeavesTheCellsThatFinished() throws {
    // SIGKILL (as a crash or the OOM killer would end it) while the third cell runs: the notebook
    // on disk holds the first two cells' outputs and the rest cleared, and is valid.
    let dir = try tmp()
    try
      "# %%\nprint \"first\"\n# %%\nprint \"second\"\n# %%\nwhile true { x = 1 }\n# %%\nprint \"never\"\n"
      .write(toFile: dir + "/long.svfap", atomically: true, encoding: .utf8)
    let pid = try spawnProcess(
      REPLTests.svfap, ["notebook", "run", dir + "/long.svfap", "-o", dir + "/long.ipynb"],
      stdout: dir + "/out.txt")
    let path = dir + "/long.ipynb"
    for _ in 0..<300 where !FileManager.default.fileExists(atPath: path) { usleep(20_000) }
    usleep(500_000)
    kill(pid, SIGKILL)
    var status: Int32 = 0
    waitpid(pid, &status, 0)
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    let nb = try JSONSerialization.jsonObject(with: data) as? [String: Any]
    let cells = nb?["cells"] as? [[String: Any]] ?? []
    let texts = cells.map {
      (($0["outputs"] as? [[String: Any]]) ?? []).compactMap { ($0["text"] as? [String])?.joined() }
    }
    #expect(texts == [["first\n"], ["second\n"], [], []], "\(texts)")
    #expect(cells.count == 4 && cells[2]["execution_count"] is NSNull)
    #expect(try validate(path).contains("valid"))
  }

  @Test func cellsThatCannotRunAreErrorsNotSkipped() throws {
    let dir = try tmp()
    var nb = Notebook.fromPercent("# %%\nprint 1\n")
    var cells = nb["cells"] as? [[String: Any]] ?? []
    cells.append(["cell_type": "code", "source": 42, "metadata": [:], "outputs": []])
    cells.append(["cell_type": "sql", "source": "select 1", "metadata": [:]])
    nb["cells"] = cells
    var seen: [Int] = []
    let (done, ok) = Notebook.execute(nb, directory: dir, allowErrors: true) { partial in
      seen.append((partial["cells"] as? [[String: Any]] ?? []).count)
    }
    #expect(!ok)
    let errors = (done["cells"] as? [[String: Any]] ?? []).map {
      (($0["outputs"] as? [[String: Any]]) ?? []).compactMap { $0["evalue"] as? String }
    }
    #expect(errors[1].first?.contains("source is not text") == true, "\(errors)")
    #expect(errors[2].first?.contains("cell_type 'sql'") == true, "\(errors)")
    #expect(seen == [3, 3, 3], "a snapshot after each cell: \(seen)")
  }

  @Test func textFigureAndErrorCells() throws {
    let dir = try tmp()
    let nb = Notebook.fromPercent(source)
    let (stopped, ok) = Notebook.execute(nb, directory: dir, allowErrors: false)
    #expect(!ok)
    let cells = stopped["cells"] as! [[String: Any]]
    #expect(
      cells.map { $0["cell_type"] as! String } == ["markdown", "code", "code", "code", "code"])
    let outs = cells.map {
      ($0["outputs"] as? [[String: Any]] ?? []).map { $0["output_type"] as! String }
    }
    #expect(outs[2] == ["stream", "display_data"] && outs[3] == ["error"] && outs[4].isEmpty)
    #expect(cells[4]["execution_count"] is NSNull)
    let path = dir + "/out.ipynb"
    try Notebook.write(stopped, to: path)
    #expect(try validate(path).contains("valid"))
    // --allow-errors runs the last cell too; -p overrides the parameter.
    let (all, _) = Notebook.execute(nb, directory: dir, allowErrors: true, parameters: [("n", "7")])
    let allCells = all["cells"] as! [[String: Any]]
    let texts = allCells.flatMap {
      ($0["outputs"] as? [[String: Any]] ?? []).compactMap { $0["text"] as? [String] }.flatMap {
        $0
      }
    }
    #expect(texts.contains("n is 7\n") && texts.contains("after the error\n"))
    let html = Notebook.html(all, title: "t")
    #expect(
      html.components(separatedBy: "data:image/png;base64,").count - 1 == 1
        && html.contains("division by zero"))
    try Notebook.write(all, to: dir + "/all.ipynb")
    #expect(try validate(dir + "/all.ipynb").contains("valid"))
  }

  @Test func malformedNotebooksAreErrors() throws {
    let dir = try tmp()
    try "{ not json".write(toFile: dir + "/bad.ipynb", atomically: true, encoding: .utf8)
    #expect { try Notebook.load(dir + "/bad.ipynb") } throws: { "\($0)".contains("not valid JSON") }
    try #"{"nbformat": 3, "cells": []}"#.write(
      toFile: dir + "/old.ipynb", atomically: true, encoding: .utf8)
    #expect { try Notebook.load(dir + "/old.ipynb") } throws: { "\($0)".contains("nbformat 4") }
    try #"{"nbformat": 4, "cells": [], "metadata": {"kernelspec": {"language": "python"}}}"#.write(
      toFile: dir + "/py.ipynb", atomically: true, encoding: .utf8)
    #expect { try Notebook.load(dir + "/py.ipynb") } throws: {
      "\($0)".contains("'python', not svfap")
    }
  }

  @Test func everyNotebookRunsEndToEnd() throws {
    let dir = Self.root.appendingPathComponent("notebooks").path
    let sources = try FileManager.default.contentsOfDirectory(atPath: dir).filter {
      $0.hasSuffix(".svfap")
    }
    #expect(!sources.isEmpty)
    for s in sources.sorted() {
      let nb = try Notebook.load(dir + "/" + s)
      let work = try tmp()
      // Run where the notebooks live (their paths are relative to notebooks/); figures go to
      // notebooks/figures (ignored by git).
      let (done, ok) = Notebook.execute(nb, directory: dir, allowErrors: false)
      #expect(
        ok,
        """
        \(s) failed: \
        \(((done["cells"] as? [[String: Any]]) ?? []).flatMap { ($0["outputs"] as? [[String: Any]]) ?? [] }.filter { $0["output_type"] as? String == "error" }.map { $0["evalue"] ?? "" })
        """
      )
      try Notebook.write(done, to: work + "/out.ipynb")
      #expect(try validate(work + "/out.ipynb").contains("valid"), "\(s)")
    }
  }
}
