import Foundation
import Plot
import TestSupport
import Testing

@testable import SVFAP
@testable import Script
@testable import Workbench

/// Finding 8 of issue 28, figure by figure: each names its model's state, labels frames with the
/// video's frame numbers, keeps a rollout's query token off the colour scale, says when a map is
/// nearly uniform, gives each head its own scale, and `text: false` prints no text plot.
@Suite(.serialized, .enabled(if: installed("gnuplot"), "gnuplot is not installed (scripts/setup)"))
struct FigureHonestyTests {
  final class Drawing {
    let dir: String
    let session: Session
    var out: [String] = []
    init() throws {
      dir = try scratchFolder("honest-figures")
      session = quietSession(in: dir)
      session.interpreter.output = { [unowned self] in self.out.append($0) }
      try session.interpreter.run(
        """
        clip = load "\(exampleVideo("single_face.mp4"))" frames: 4 stride: 4 size: 32 crop: "center"
        f = model "svfap-nano" task: "finetune" seed: 1
        """)
    }
    deinit { try? FileManager.default.removeItem(atPath: dir) }

    /// Draws with `code` and returns the figure described to gnuplot.
    func draw(_ code: String) throws -> Figure {
      try session.interpreter.run(code)
      return try #require(session.lastFigureDrawn)
    }
    /// The panels' titles.
    func labels(_ f: Figure) -> [String] {
      f.panels.map { if case .image(_, _, _, let t) = $0 { t } else { "" } }
    }
  }

  @Test func attentionFiguresNameTheModelAndTheirScale() throws {
    let d = try Drawing()
    let plain = try d.draw("show_attention f clip layer: 0 file: \"a.png\"")
    #expect(plain.title.contains("svfap-nano, untrained (random weights)"))
    // Frames as the video numbers them (stride 4 from the clip's start), not clip indices.
    guard case .list(let frames)? = try? d.session.interpreter.run("clip.frames"),
      case .number(let first)? = frames.first
    else {
      Issue.record("no frames")
      return
    }
    #expect(d.labels(plain).first == "slice 0 (frame \(Int(first)))")
    // Rollout with a query: its own token's weight is left off the scale.
    let rollout = try d.draw("show_attention f clip rollout: true query: [0, 1, 1] file: \"r.png\"")
    #expect(rollout.title.contains("the query's own token"))
    let scale = try #require(rollout.colourScale)
    #expect(scale.high < 0.2)  // the self-weight (≥ 0.25 for a token's own row) is not the top
    // Mean over queries: a nearly uniform rollout says so and is drawn from 0.
    let mean = try d.draw("show_attention f clip rollout: true file: \"m.png\"")
    #expect(mean.title.contains("nearly uniform"))
    #expect(try #require(mean.colourScale).low == 0)
    // Per-head maps: each head's own scale by default, the shared one when asked.
    let heads = try d.draw("show_attention f clip per_head: true file: \"h.png\"")
    #expect(try #require(heads.colourScale).label.contains("each head's own"))
    #expect(d.labels(heads).first?.hasPrefix("head 0 (") == true)
    let shared = try d.draw(
      "show_attention f clip per_head: true scale: \"shared\" file: \"s.png\"")
    #expect(try #require(shared.colourScale).label == "attention weight")
  }

  @Test func reconstructionsAndMasksLabelVideoFramesAndTheModelAsItWas() throws {
    let d = try Drawing()
    try d.session.interpreter.run(
      """
      m = model "svfap-nano" seed: 3
      r = reconstruct(m, clip, mask: tube(0.9, seed: 2))
      train m clip steps: 2 lr: 1 total: 2 autosave: false
      """)
    let figure = try d.draw("show r frames: [0, 2] file: \"rec.png\"")
    #expect(figure.title.hasPrefix("svfap-nano, untrained (random weights): "))
    guard case .list(let frames)? = try? d.session.interpreter.run("clip.frames"),
      case .number(let third)? = frames.dropFirst(2).first
    else {
      Issue.record("no frames")
      return
    }
    #expect(d.labels(figure).dropFirst(4).first == "frame \(Int(third)): original")
    let mask = try d.draw("show_mask clip tube(0.9, seed: 2) model: m file: \"mask.png\"")
    #expect(d.labels(mask).dropFirst(1).first == "slice 1 (frame \(Int(third)))")
    // The curves name the trained model; text: false prints no text plot.
    let before = d.out.count
    let curves = try d.draw("show m text: false file: \"c.png\"")
    #expect(curves.title.contains("step 2, loss"))
    #expect(d.out.count == before + 1)  // the figure's path only
    _ = try d.draw("show m file: \"c2.png\"")
    #expect(d.out.count > before + 2)  // the text plot by default
  }
}

/// Finding 9's progress line: the bar clears the rest of its line (no `ETA 30ss`) and a message
/// during or after an interrupted call starts on a line of its own.
@Suite struct ProgressLineTests {
  @Test func theBarClearsItsTailAndEndsItsLineBeforeAMessage() {
    var written = ""
    let interp = Interpreter()
    let bar = TrainingProgress(
      steps: 3, startStep: 0, every: 1, clipsPerStep: 1, terminal: true, interp: interp,
      write: { written += $0 })
    bar.report(StepLog(step: 1, loss: 0.5, lr: 1e-3, gradNorm: 1, clipsPerSecond: 2))
    #expect(written.hasPrefix("\r[") && written.hasSuffix("\u{1B}[K"))
    #expect(bar.lineOpen)
    bar.endLine()  // what a message (or an interruption) does first
    #expect(written.hasSuffix("\u{1B}[K\n") && !bar.lineOpen)
    bar.endLine()  // only once
    #expect(!written.hasSuffix("\n\n"))
    bar.report(StepLog(step: 3, loss: 0.5, lr: 1e-3, gradNorm: 1, clipsPerSecond: 2))
    #expect(written.hasSuffix("\u{1B}[K\n") && !bar.lineOpen)  // the last step ends its line
  }
}
