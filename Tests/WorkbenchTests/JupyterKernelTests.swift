import Foundation
import TestSupport
import Testing

/// The Jupyter kernel end to end: `svfap jupyter install --prefix`, then jupyter_client starts the
/// kernel and runs cells (state kept across cells, streams, figures as image/png, located errors),
/// completion, inspection, is_complete, an interrupt the session survives, and a restart.
@Suite(
  .serialized, .tags(.python),
  .enabled(
    if: installed("python3") && installed("gnuplot"),
    "python3 or gnuplot is not installed (scripts/setup installs them with jupyter_client and ipykernel)"
  ))
struct JupyterKernelTests {
  static let driver = #"""
    import json, sys, time, queue
    from jupyter_client.manager import start_new_kernel
    t0 = time.time()
    km, kc = start_new_kernel(kernel_name="svfap", startup_timeout=60)
    started = time.time() - t0
    def run(code, timeout=120):
        out = {"stream": "", "images": 0, "errors": [], "status": None, "result": None}
        def hook(msg):
            t, c = msg["msg_type"], msg["content"]
            if t == "stream": out["stream"] += c["text"]
            elif t == "display_data": out["images"] += int("image/png" in c["data"])
            elif t == "execute_result": out["result"] = c["data"]["text/plain"]
            elif t == "error": out["errors"].append(c["ename"] + ": " + c["evalue"])
        reply = kc.execute_interactive(code, output_hook=hook, timeout=timeout)
        out["status"] = reply["content"]["status"]
        return out
    result = {"start_s": started}
    info = kc.kernel_info(reply=True)["content"]
    result["language"] = info["language_info"]["name"] + " " + info["language_info"]["file_extension"]
    result["first"] = run("x = 2 + 3\nprint x")
    result["state"] = run("print x * 10")
    result["value"] = run("x + 1")
    result["figure"] = run('show noise_clip(frames: 4, size: 32, seed: 1) file: "%s/fig.png"' % sys.argv[1])
    result["error"] = run("print nope")
    result["complete"] = kc.complete("pri", 3, reply=True)["content"]["matches"]
    result["inspect"] = kc.inspect("tube", 2, reply=True)["content"]["data"].get("text/plain", "")
    def complete_status(code):
        kc.is_complete(code)
        return kc.get_shell_msg(timeout=30)["content"]["status"]
    result["open"] = complete_status("for i in 1..3 {")
    result["closed"] = complete_status("print 1")
    result["invalid"] = complete_status("print )")
    t0 = time.time()
    for _ in range(20): run("")
    result["empty_cell_ms"] = (time.time() - t0) / 20 * 1000
    def interrupted(code, wait):
        # Interrupt only once the cell runs in svfap (its first line printed), then after `wait`.
        kc.execute('print "go"\n' + code)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                msg = kc.get_iopub_msg(timeout=1)
            except queue.Empty:
                continue
            if msg["msg_type"] == "stream" and "go" in msg["content"]["text"]:
                break
        time.sleep(wait)
        km.interrupt_kernel()
        reply = kc.get_shell_msg(timeout=60)
        return reply["content"].get("ename", reply["content"]["status"])
    result["interrupted"] = interrupted("n = 0\nwhile true { n = n + 1 }", 2)
    run('m = model "svfap-nano" seed: 1\nc = noise_clip(frames: 4, size: 32, seed: 1)')
    result["train_interrupted"] = interrupted("train m c steps: 100000 total: 100000 autosave: false", 4)
    result["after"] = run("print x")
    result["step"] = run("print m.step")
    # The svfap process dies under the kernel (killed from outside): the next cell says so, then a
    # fresh session answers.
    import os, signal
    kernel_pid = km.provisioner.process.pid
    children = [int(p) for p in os.listdir("/proc") if p.isdigit()
                and open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()[1] == str(kernel_pid)]
    for child in children: os.kill(child, signal.SIGKILL)
    time.sleep(0.5)  # it dies between cells (the next cell must say so, not start anew silently)
    t0 = time.time()
    result["died"] = run("print 1", timeout=60)
    result["died_s"] = time.time() - t0
    result["after_death"] = run("print type(x)")
    km.restart_kernel(now=True)
    kc.wait_for_ready(timeout=60)
    result["restarted"] = run("print type(x)")
    kc.stop_channels()
    km.shutdown_kernel(now=True)
    print(json.dumps(result))
    """#

  /// A fresh folder with the kernelspec installed under it by `svfap jupyter install --prefix`.
  static func installedKernel(_ name: String) throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
      "svfap-\(name)-\(UUID().uuidString)"
    ).path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    var status: Int32 = 0
    waitpid(
      try spawnProcess(
        REPLTests.svfap, ["jupyter", "install", "--prefix", dir], stdout: dir + "/install.txt"),
      &status, 0)
    #expect(
      FileManager.default.fileExists(atPath: dir + "/share/jupyter/kernels/svfap/kernel.json"))
    return dir
  }

  /// Starts the kernel, runs a cell that never ends, prints the kernel's and svfap's pids, and
  /// leaves without a word (as a killed Jupyter or nbconvert would).
  static let orphaning = #"""
    import json, os, sys, time, queue
    from jupyter_client.manager import start_new_kernel
    km, kc = start_new_kernel(kernel_name="svfap", startup_timeout=60)
    kc.execute('print "go"\nn = 0\nwhile true { n = n + 1 }')
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            msg = kc.get_iopub_msg(timeout=1)
        except queue.Empty:
            continue
        if msg["msg_type"] == "stream" and "go" in msg["content"]["text"]:
            break
    kernel = km.provisioner.process.pid
    svfap = [int(p) for p in os.listdir("/proc") if p.isdigit()
             and open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()[1] == str(kernel)]
    print(json.dumps({"kernel": kernel, "svfap": svfap}), flush=True)
    os._exit(0)
    """#

  /// Whether a process still runs (not gone, not a zombie).
  static func running(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else {
      return false
    }
    return stat.split(separator: ")").last?.split(separator: " ").first != "Z"
  }

  @Test func anOrphanedKernelEndsWithItsParent() throws {
    // Jupyter (here: the driver) goes while a cell runs forever: the kernel process and the svfap
    // session under it end within seconds instead of burning a core.
    let dir = try Self.installedKernel("orphan")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try Self.orphaning.write(toFile: dir + "/orphan.py", atomically: true, encoding: .utf8)
    setenv("JUPYTER_PATH", dir + "/share/jupyter", 1)
    setenv("JUPYTER_RUNTIME_DIR", dir + "/runtime", 1)
    defer {
      unsetenv("JUPYTER_PATH")
      unsetenv("JUPYTER_RUNTIME_DIR")
    }
    var status: Int32 = 0
    waitpid(
      try spawnProcess("python3", [dir + "/orphan.py"], stdout: dir + "/pids.json"), &status, 0)
    let data = FileManager.default.contents(atPath: dir + "/pids.json") ?? Data()
    let pids = try #require(
      try JSONSerialization.jsonObject(with: data) as? [String: Any],
      "driver said: \(String(decoding: data, as: UTF8.self))")
    let kernel = Int32(pids["kernel"] as? Int ?? 0)
    let svfap = (pids["svfap"] as? [Int] ?? []).map { Int32($0) }
    #expect(kernel > 0 && svfap.count == 1, "\(pids)")
    let deadline = Date().addingTimeInterval(10)
    while Date() < deadline && ([kernel] + svfap).contains(where: Self.running) { usleep(100_000) }
    #expect(!Self.running(kernel), "the kernel process outlived its parent")
    for pid in svfap {
      #expect(!Self.running(pid), "the svfap session outlived its kernel")
      if Self.running(pid) { kill(pid, SIGKILL) }
    }
    if Self.running(kernel) { kill(kernel, SIGKILL) }
  }

  /// Runs a jupyter_client driver script against the kernel installed in `dir` (its argument is
  /// `dir`) and returns the JSON object it prints.
  static func runDriver(_ script: String, in dir: String) throws -> [String: Any] {
    var status: Int32 = 0
    // posix_spawn with default signal handling: the kernel must see Jupyter's SIGINT, whatever the
    // test runner ignores or blocks.
    try script.write(toFile: dir + "/driver.py", atomically: true, encoding: .utf8)
    setenv("JUPYTER_PATH", dir + "/share/jupyter", 1)
    setenv("JUPYTER_RUNTIME_DIR", dir + "/runtime", 1)
    defer {
      unsetenv("JUPYTER_PATH")
      unsetenv("JUPYTER_RUNTIME_DIR")
    }
    let driver = try spawnProcess(
      "python3", [dir + "/driver.py", dir], stdout: dir + "/result.json")
    waitpid(driver, &status, 0)
    let data = FileManager.default.contents(atPath: dir + "/result.json") ?? Data()
    return try #require(
      try JSONSerialization.jsonObject(with: data) as? [String: Any],
      "driver said: \(String(decoding: data, as: UTF8.self))")
  }

  @Test func cellsCompletionInterruptAndRestartThroughJupyter() throws {
    let dir = try Self.installedKernel("jupyter")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let r = try Self.runDriver(Self.driver, in: dir)
    func cell(_ name: String) -> [String: Any] { r[name] as? [String: Any] ?? [:] }
    #expect(r["language"] as? String == "svfap .svfap")
    #expect(
      cell("first")["stream"] as? String == "5\n" && cell("first")["status"] as? String == "ok")
    #expect(cell("state")["stream"] as? String == "50\n")
    #expect(cell("figure")["images"] as? Int == 1)
    #expect(
      cell("value")["result"] as? String == "6", "a bare expression is the cell's execute_result")
    #expect(cell("error")["status"] as? String == "error")
    #expect((cell("error")["errors"] as? [String])?.first?.contains("unknown name 'nope'") == true)
    #expect((r["complete"] as? [String])?.contains("print") == true)
    #expect((r["inspect"] as? String)?.contains("A tube mask") == true)
    #expect(r["open"] as? String == "incomplete" && r["closed"] as? String == "complete")
    #expect(r["interrupted"] as? String == "KeyboardInterrupt")
    #expect(
      r["train_interrupted"] as? String == "KeyboardInterrupt",
      "train stops at a step boundary and the cell ends with an error, as IPython's")
    #expect(cell("after")["stream"] as? String == "5\n", "the session survives the interrupt")
    let step =
      Int((cell("step")["stream"] as? String ?? "").trimmingCharacters(in: .whitespacesAndNewlines))
      ?? 0
    #expect(
      step > 0 && step < 100_000, "the model keeps the steps trained before the interrupt (\(step))"
    )
    #expect(r["invalid"] as? String == "invalid")
    let died = cell("died")["errors"] as? [String] ?? []
    #expect(
      cell("died")["status"] as? String == "error"
        && died.first?.contains("KernelDied: the svfap process ended") == true
        && died.first?.contains("the next cell starts a new session") == true,
      "a dead process is reported, with how to go on: \(died)")
    #expect((r["died_s"] as? Double ?? 99) < 10, "the report comes at once, not after a hang")
    #expect(
      (cell("after_death")["errors"] as? [String])?.first?.contains("unknown name 'x'") == true,
      "the next cell runs in a fresh session")
    // Overhead figures (reported in the issue notes; measured, not asserted).
    print(
      "jupyter: kernel start \(r["start_s"] ?? "?") s, empty cell round trip \(r["empty_cell_ms"] ?? "?") ms"
    )
    #expect(
      (cell("restarted")["errors"] as? [String])?.first?.contains("unknown name 'x'") == true,
      "a restart is a fresh session")
  }

  @Test func ourNotebooksRunThroughNbconvert() throws {
    let dir = try Self.installedKernel("nbconvert")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var status: Int32 = 0
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .deletingLastPathComponent().deletingLastPathComponent()
    let notebooks = root.appendingPathComponent("notebooks")
    let names = ((try? FileManager.default.contentsOfDirectory(atPath: notebooks.path)) ?? [])
      .filter { $0.hasSuffix(".ipynb") }.sorted()
    #expect(names.count >= 5)
    setenv("JUPYTER_PATH", dir + "/share/jupyter", 1)
    defer { unsetenv("JUPYTER_PATH") }
    for name in names {
      // nbclient runs the kernel in the notebook's folder, as nbconvert does; the executed copy goes
      // to the temporary folder and is validated by nbformat.
      let script = """
        import sys, nbformat
        from nbclient import NotebookClient
        nb = nbformat.read(sys.argv[1], as_version=4)
        NotebookClient(nb, timeout=600, kernel_name="svfap", resources={"metadata": {"path": sys.argv[2]}}).execute()
        nbformat.validate(nb)
        outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
        print(sum(1 for o in outputs if "image/png" in o.get("data", {})), sum(1 for o in outputs if o.output_type == "error"))
        """
      try script.write(toFile: dir + "/run.py", atomically: true, encoding: .utf8)
      let pid = try spawnProcess(
        "python3", [dir + "/run.py", notebooks.appendingPathComponent(name).path, notebooks.path],
        stdout: dir + "/out.txt", keepStderr: true)
      waitpid(pid, &status, 0)
      let out = (try? String(contentsOfFile: dir + "/out.txt", encoding: .utf8)) ?? ""
      let counts =
        out.split(separator: "\n").last?.split(separator: " ").compactMap { Int($0) } ?? []
      #expect(counts.count == 2, "\(name): \(out.suffix(600))")
      guard counts.count == 2 else { continue }
      #expect(counts[1] == 0, "\(name) has error outputs")
      if !name.hasPrefix("05") { #expect(counts[0] > 0, "\(name) carries no image/png output") }
    }
  }

  @Test func passesJupyterKernelTestsConformanceSuite() throws {
    let dir = try Self.installedKernel("kerneltest")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var status: Int32 = 0
    setenv("JUPYTER_PATH", dir + "/share/jupyter", 1)
    setenv("SVFAP_TEST_DIR", dir, 1)
    defer {
      unsetenv("JUPYTER_PATH")
      unsetenv("SVFAP_TEST_DIR")
    }
    let suite = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
      "jupyter/test_svfap_kernel.py"
    ).path
    let pid = try spawnProcess(
      "python3", [suite, "-v"], stdout: dir + "/out.txt", keepStderr: true)
    waitpid(pid, &status, 0)
    let out = (try? String(contentsOfFile: dir + "/out.txt", encoding: .utf8)) ?? ""
    // kernel_info, stdout, display_data (image/png), execute_result, error, completion, is_complete
    // (complete / incomplete / invalid), inspect and history: each must pass, none may fail.
    #expect(out.contains("\nOK"), "jupyter_kernel_test: \(out.suffix(1500))")
    for test in [
      "test_kernel_info", "test_execute_stdout", "test_display_data", "test_execute_result",
      "test_error",
      "test_completion", "test_is_complete", "test_inspect",
    ] {
      #expect(out.contains("\(test) (") && !out.contains("FAIL: \(test)"), "\(test) did not pass")
    }
  }

  @Test func lexerAndPapermillParameters() throws {
    let dir = try Self.installedKernel("tools")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var status: Int32 = 0
    setenv("JUPYTER_PATH", dir + "/share/jupyter", 1)
    defer { unsetenv("JUPYTER_PATH") }
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .deletingLastPathComponent().deletingLastPathComponent()
    let suite = root.appendingPathComponent("Tests/WorkbenchTests/jupyter/test_language_tools.py")
    let saved = FileManager.default.currentDirectoryPath
    FileManager.default.changeCurrentDirectoryPath(root.path)
    defer { FileManager.default.changeCurrentDirectoryPath(saved) }
    let pid = try spawnProcess(
      "python3", [suite.path, "-v"], stdout: dir + "/out.txt", keepStderr: true)
    waitpid(pid, &status, 0)
    let out = (try? String(contentsOfFile: dir + "/out.txt", encoding: .utf8)) ?? ""
    #expect(out.contains("\nOK"), "\(out.suffix(2000))")
    for test in [
      "test_highlights_keywords_strings_numbers_comments", "test_keywords_are_the_languages",
      "test_parameters_reach_the_kernel",
    ] {
      #expect(out.contains("\(test) (") && !out.contains("FAIL: \(test)"), "\(test) did not pass")
    }
  }

  @Test func installIntoAReadOnlyPrefixSaysSo() throws {
    // /proc refuses new folders even to root, as a read-only mount does.
    let out = FileManager.default.temporaryDirectory.appendingPathComponent(
      "install-\(UUID().uuidString).txt"
    ).path
    defer { try? FileManager.default.removeItem(atPath: out) }
    var status: Int32 = 0
    waitpid(
      try spawnProcess(
        REPLTests.svfap, ["jupyter", "install", "--prefix", "/proc/svfap-prefix"], stdout: out,
        keepStderr: true),
      &status, 0)
    let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
    #expect(status != 0)
    #expect(
      text.contains(
        "cannot write the kernelspec into /proc/svfap-prefix/share/jupyter/kernels/svfap")
        && text.contains("read-only prefix"), "\(text)")
  }
}
