import Foundation
import TestSupport
import Testing

/// The REPL driven through a real terminal (tmux): completion, multi-line blocks, Ctrl-C, history.
@Suite(
  .serialized, .tags(.tmux),
  .enabled(if: installed("tmux"), "tmux is not installed (scripts/setup installs it)"))
struct REPLTests {
  /// The svfap binary built beside the test executable.
  static var svfap: String {
    URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0]).deletingLastPathComponent()
      .appendingPathComponent("svfap").path
  }

  /// Runs tmux on a private server (spawnProcess + waitpid); returns stdout.
  @discardableResult
  func tmux(_ args: [String]) throws -> String {
    let out = FileManager.default.temporaryDirectory.appendingPathComponent(
      "tmux-out-\(UUID().uuidString)"
    ).path
    defer { unlink(out) }
    let pid = try spawnProcess("tmux", ["-L", "svfap-test-\(getpid())"] + args, stdout: out)
    var status: Int32 = 0
    waitpid(pid, &status, 0)
    return (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
  }

  /// Waits until the pane shows `text` (or times out), returning the screen.
  func waitFor(_ session: String, _ text: String, timeout: Double = 20) throws -> String {
    let end = Date().addingTimeInterval(timeout)
    var screen = ""
    while Date() < end {
      screen = try tmux(["capture-pane", "-p", "-t", session])
      if screen.contains(text) { return screen }
      usleep(50_000)
    }
    Issue.record("timed out waiting for '\(text)'; screen:\n\(screen)")
    return screen
  }

  func keys(_ session: String, _ k: String...) throws {
    try tmux(["send-keys", "-t", session] + k)
  }

  @Test func replThroughATerminal() throws {
    #expect(
      FileManager.default.isExecutableFile(atPath: Self.svfap), "svfap not built at \(Self.svfap)")
    let home = FileManager.default.temporaryDirectory.appendingPathComponent(
      "svfap-home-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
    let name = "svfap-test-\(getpid())"
    let start = [
      "new-session", "-d", "-s", name, "-x", "160", "-y", "50", "env", "HOME=\(home.path)",
      "TERM=xterm", Self.svfap,
    ]
    defer { _ = try? tmux(["kill-server"]) }

    try tmux(start)
    _ = try waitFor(name, "svfap>")  // capture-pane trims trailing spaces
    try keys(name, "x = 41", "Enter")
    // Completion of a command name, then of an option of the command being typed.
    try keys(name, "hel", "Tab")
    _ = try waitFor(name, "svfap> help")
    try keys(name, " len", "Enter")
    _ = try waitFor(name, "len VALUE")
    try keys(name, "mk = tube 0.5 se", "Tab")
    _ = try waitFor(name, "tube 0.5 seed:")
    try keys(name, "3", "Enter")
    try keys(name, "print mk.seed", "Enter")
    _ = try waitFor(name, "\n3")
    // A multi-line block with a continuation prompt.
    try keys(name, "for i in 1..2 {", "Enter")
    _ = try waitFor(name, "...>")
    try keys(name, "print i * 100", "Enter", "}", "Enter")
    _ = try waitFor(name, "200")
    // Ctrl-C stops a long loop; the variables survive.
    try keys(name, "while true { y = 1 }", "Enter")
    usleep(500_000)
    try keys(name, "C-c")
    _ = try waitFor(name, "interrupted")
    try keys(name, "print x + 1", "Enter")
    _ = try waitFor(name, "42")
    // Ctrl-D inside an open block drops the block, not the session.
    try keys(name, "for i in 1..2 {", "Enter")
    _ = try waitFor(name, "...>")
    try keys(name, "C-d")
    _ = try waitFor(name, "the unfinished input was dropped")
    try keys(name, "print x + 2", "Enter")
    _ = try waitFor(name, "43")
    // `live:` on a terminal draws the loss while the run's log grows (once an exclusivity trap).
    try keys(name, "m = model \"svfap-tiny\" seed: 1", "Enter")
    try keys(
      name, "r = train(m, noise_clip(frames: 16, size: 160, seed: 1), steps: 4, live: 2)", "Enter")
    try keys(name, "print \"trained\", r.step", "Enter")
    _ = try waitFor(name, "trained 4")
    try keys(name, "C-d")
    usleep(300_000)

    // History persists into a second run.
    let history = try String(
      contentsOf: home.appendingPathComponent(".svfap_history"), encoding: .utf8)
    #expect(history.contains("print x + 1"))
    _ = try? tmux(["kill-session", "-t", name])
    try tmux(start)
    _ = try waitFor(name, "svfap>")  // capture-pane trims trailing spaces
    try keys(name, "Up")
    _ = try waitFor(name, "svfap> print \"trained\", r.step")
  }
}
