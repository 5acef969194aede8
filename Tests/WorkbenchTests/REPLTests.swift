import Foundation
import Testing

/// The REPL driven through a real terminal (tmux): completion, multi-line blocks, Ctrl-C, history.
@Suite(.serialized) struct REPLTests {
  /// The svfap binary built beside the test executable.
  static var svfap: String {
    URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0]).deletingLastPathComponent().appendingPathComponent("svfap").path
  }

  /// Runs tmux on a private server with posix_spawn and waitpid (Foundation's Process can wait forever
  /// when the tmux server it starts inherits its bookkeeping descriptors); returns stdout.
  @discardableResult
  func tmux(_ args: [String]) throws -> String {
    let out = FileManager.default.temporaryDirectory.appendingPathComponent("tmux-out-\(UUID().uuidString)").path
    defer { unlink(out) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    let argv = ["tmux", "-L", "svfap-test-\(getpid())"] + args
    var cargs = argv.map { strdup($0) } + [nil]
    defer { for p in cargs { free(p) } }
    // Default signal handling and an empty mask, whatever the test runner set.
    var attr = posix_spawnattr_t()
    posix_spawnattr_init(&attr)
    defer { posix_spawnattr_destroy(&attr) }
    var none = sigset_t(), all = sigset_t()
    sigemptyset(&none)
    sigfillset(&all)
    posix_spawnattr_setsigmask(&attr, &none)
    posix_spawnattr_setsigdefault(&attr, &all)
    posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    var pid = pid_t()
    guard posix_spawnp(&pid, "tmux", &actions, &attr, &cargs, environ) == 0 else { throw POSIXError(.ENOENT) }
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

  func keys(_ session: String, _ k: String...) throws { try tmux(["send-keys", "-t", session] + k) }

  @Test func replThroughATerminal() throws {
    #expect(FileManager.default.isExecutableFile(atPath: Self.svfap), "svfap not built at \(Self.svfap)")
    let home = FileManager.default.temporaryDirectory.appendingPathComponent("svfap-home-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
    let name = "svfap-test-\(getpid())"
    let start = ["new-session", "-d", "-s", name, "-x", "160", "-y", "50", "env", "HOME=\(home.path)", "TERM=xterm", Self.svfap]
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
    try keys(name, "C-d")
    usleep(300_000)

    // History persists into a second run.
    let history = try String(contentsOf: home.appendingPathComponent(".svfap_history"), encoding: .utf8)
    #expect(history.contains("print x + 1"))
    _ = try? tmux(["kill-session", "-t", name])
    try tmux(start)
    _ = try waitFor(name, "svfap>")  // capture-pane trims trailing spaces
    try keys(name, "Up")
    _ = try waitFor(name, "svfap> print x + 1")
  }
}
