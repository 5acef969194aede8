import Foundation
import TestSupport
import Testing

@testable import Plot

/// The gnuplot process itself: answers that survive signals, deterministic files, restarts, bad
/// paths.
@Suite(
  .serialized, .tags(.gnuplot),
  .enabled(if: installed("gnuplot"), "gnuplot is not installed (scripts/setup installs it)"))
struct GnuplotTests {
  func tmp(_ name: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent(
      "svfap-gnuplot-\(UUID().uuidString)-\(name)"
    ).path
  }

  @Test func gnuplotAnswersSurviveSignalsAndSilence() throws {
    // Found by the session fuzzer: a signal during the wait for gnuplot's answer (EINTR) trapped
    // inside FileHandle.availableData. The reader now retries on EINTR and gives up on silence with
    // an error.
    var fds: [Int32] = [0, 0]
    #expect(pipe(&fds) == 0)
    defer {
      close(fds[0])
      close(fds[1])
    }
    var action = sigaction()
    action.__sigaction_handler.sa_handler = { _ in }
    action.sa_flags = 0  // no SA_RESTART: read and poll return EINTR
    sigemptyset(&action.sa_mask)
    sigaction(SIGUSR2, &action, nil)
    let reader = pthread_self(), writeEnd = fds[1]
    let poker = Thread {
      for _ in 0..<5 {
        usleep(20_000)
        pthread_kill(reader, SIGUSR2)
      }
      _ = "ok".withCString { write(writeEnd, $0, 2) }
    }
    poker.start()
    let answer = try Gnuplot.read(fds[0], timeout: 10)
    #expect(String(decoding: answer, as: UTF8.self) == "ok")
    #expect { try Gnuplot.read(fds[0], timeout: 0.2) } throws: {
      "\($0)".contains("did not answer")
    }
  }

  @Test func deterministicFilesRestartAndBadPaths() throws {
    let xs = (0..<50).map(Double.init)
    let fig = Figure(
      title: "t",
      panels: [
        .curves(
          series: [(name: "a", x: xs, y: xs.map { $0 * $0 })], xLabel: "x", yLabel: "y",
          logY: false, title: "c")
      ], columns: 1)
    let a = tmp("a.png"), b = tmp("b.png")
    try Gnuplot.shared.render(fig, to: a)
    try Gnuplot.shared.render(fig, to: b)
    #expect(FileManager.default.contents(atPath: a) == FileManager.default.contents(atPath: b))
    // A dead gnuplot is restarted by the next figure.
    let before = Gnuplot.shared.restarts
    Gnuplot.shared.kill()
    try Gnuplot.shared.render(fig, to: a)
    #expect(Gnuplot.shared.restarts == before + 1)
    #expect { try Gnuplot.shared.render(fig, to: "/nonexistent-dir/x.png") } throws: {
      "\($0)".contains("cannot write the figure")
    }
    // Text plots for the REPL.
    #expect(try Gnuplot.shared.render(fig, to: nil, terminal: .dumb).contains("*"))
  }
}
