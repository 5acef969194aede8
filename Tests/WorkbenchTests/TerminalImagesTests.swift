import Foundation
import TestSupport
import Testing

@testable import Workbench

/// Figures in the terminal: the capability probe (an answer listing sixel, a wrong answer, silence
/// that must give up within 100 ms), the kitty and iTerm2 escapes, and `set inline: "on"` drawing a
/// real figure as sixel through gnuplot.
@Suite(.serialized)
struct TerminalImagesTests {
  /// A pipe pair for the probe: (terminal's end we read from, our query's end), closed after.
  func withPipes(answer: String?, _ body: (Int32, Int32) -> Void) {
    var answerPipe: [Int32] = [0, 0], queryPipe: [Int32] = [0, 0]
    #expect(pipe(&answerPipe) == 0 && pipe(&queryPipe) == 0)
    defer { for fd in answerPipe + queryPipe { close(fd) } }
    if let answer {
      _ = answer.withCString { write(answerPipe[1], $0, strlen($0)) }
    }
    body(answerPipe[0], queryPipe[1])
  }

  @Test func theProbeReadsTheAnswerAndGivesUpOnSilence() {
    withPipes(answer: "\u{1b}[?62;4;6;22c") { input, output in
      #expect(TerminalImages.probeSixel(input: input, output: output))
    }
    withPipes(answer: "\u{1b}[?62;6;22c") { input, output in
      #expect(!TerminalImages.probeSixel(input: input, output: output))
    }
    withPipes(answer: nil) { input, output in
      let start = ProcessInfo.processInfo.systemUptime
      #expect(!TerminalImages.probeSixel(input: input, output: output))
      let waited = ProcessInfo.processInfo.systemUptime - start
      #expect(waited < 0.15, "a silent terminal held the probe \(waited) s")
    }
    #expect(TerminalImages.answerListsSixel("\u{1b}[?64;1;2;4;6;9;15;18;21;22c"))
    #expect(!TerminalImages.answerListsSixel("\u{1b}[?1;2c"))
    #expect(!TerminalImages.answerListsSixel("garbage"))
  }

  @Test func kittyAndITermEscapes() {
    let png = Data((0..<10_000).map { UInt8($0 % 251) })
    let kitty = String(decoding: TerminalImages.escape(png: png, as: .kitty), as: UTF8.self)
    // 10 000 bytes are 13 336 base64 characters: four chunks, m=1 on all but the last.
    #expect(kitty.components(separatedBy: "\u{1b}_G").count - 1 == 4)
    #expect(kitty.hasPrefix("\u{1b}_Ga=T,f=100,m=1;"))
    #expect(kitty.contains("\u{1b}_Gm=0;"))
    let payload = kitty.components(separatedBy: "\u{1b}_G").dropFirst().map {
      String($0.split(separator: ";", maxSplits: 1)[1].prefix { $0 != "\u{1b}" })
    }.joined()
    #expect(Data(base64Encoded: payload) == png)
    let iterm = String(decoding: TerminalImages.escape(png: png, as: .iterm), as: UTF8.self)
    #expect(iterm.hasPrefix("\u{1b}]1337;File=inline=1;size=10000:"))
    #expect(TerminalImages.named(by: ["TERM": "xterm-kitty"]) == .kitty)
    #expect(TerminalImages.named(by: ["TERM_PROGRAM": "iTerm.app"]) == .iterm)
    #expect(TerminalImages.named(by: ["TERM": "xterm-256color"]) == nil)
  }

  @Test(
    .tags(.gnuplot),
    .enabled(if: installed("gnuplot"), "gnuplot is not installed (scripts/setup installs it)"))
  func inlineOnDrawsSixelsAndOffDrawsNothing() throws {
    let dir = try scratchFolder("inline")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let session = quietSession(in: dir)
    var drawn = Data()
    session.writeTerminal = { drawn += $0 }
    let env = ProcessInfo.processInfo.environment
    guard TerminalImages.named(by: env) == nil else { return }  // kitty/iTerm2 would be chosen
    try session.interpreter.run(
      """
      set inline: "on"
      show_scatter [0.1, 0.5, 0.4] [0.2, 0.6, 0.3] file: "a.png"
      """)
    // A sixel image: DCS (ESC P) … q, the picture, ST (ESC \).
    let text = String(decoding: drawn, as: UTF8.self)
    #expect(text.hasPrefix("\u{1b}P") && text.contains("q") && text.contains("\u{1b}\\"))
    #expect(drawn.count > 1000)
    drawn = Data()
    try session.interpreter.run(
      """
      set inline: "off"
      show_scatter [0.1, 0.5, 0.4] [0.2, 0.6, 0.3] file: "b.png"
      """)
    #expect(drawn.isEmpty)
    // Not interactive (a script, a notebook): auto draws nothing either.
    try session.interpreter.run("set inline: \"auto\"\nshow_scatter [0.1] [0.2] file: \"c.png\"")
    #expect(drawn.isEmpty)
    #expect { try session.interpreter.run("set inline: \"sometimes\"") } throws: {
      "\($0)".contains("auto") && "\($0)".contains("1:")
    }
  }
}
