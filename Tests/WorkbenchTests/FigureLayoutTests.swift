import Foundation
import TestSupport
import Testing

@testable import Media
@testable import Plot
@testable import Workbench

/// Every figure kind rendered by gnuplot from real data (the example clip, real models) and checked
/// from the decoded PNG itself: the picture has the size its layout computed, no two text boxes or
/// panels share a pixel, every line of text lies inside its box (so the boxes are honest), the title
/// band is background at both edges (nothing clipped) and between title and labels, and a heat
/// figure has its colour bar.
@Suite(
  .serialized, .tags(.gnuplot),
  .enabled(if: installed("gnuplot"), "gnuplot is not installed (scripts/setup installs it)"))
struct FigureLayoutTests {
  /// A decoded PNG.
  struct Picture {
    let width: Int, height: Int, rgb: [UInt8]
    /// Whether the pixel differs clearly from the white background.
    func ink(_ x: Int, _ y: Int) -> Bool {
      let p = (y * width + x) * 3
      return rgb[p] < 200 || rgb[p + 1] < 200 || rgb[p + 2] < 200
    }
    /// The inked pixels' bounding box inside `r` (nil: none).
    func inkBox(in r: Rect) -> Rect? {
      var (x0, y0, x1, y1) = (Int.max, Int.max, -1, -1)
      for y in max(r.y, 0)..<min(r.bottom, height) {
        for x in max(r.x, 0)..<min(r.right, width) where ink(x, y) {
          (x0, y0, x1, y1) = (min(x0, x), min(y0, y), max(x1, x), max(y1, y))
        }
      }
      return x1 < 0 ? nil : Rect(x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1)
    }
  }

  func decode(_ path: String) throws -> Picture {
    let img = try VideoReader.decodeImage(path)
    return Picture(width: img.width, height: img.height, rgb: img.rgb)
  }

  /// The layout checks of one rendered figure (messages for what fails).
  func problems(_ name: String, _ pic: Picture, _ layout: FigureLayout) -> [String] {
    var out: [String] = []
    guard pic.width == layout.width, pic.height == layout.height else {
      return ["\(name): \(pic.width)x\(pic.height), layout \(layout.width)x\(layout.height)"]
    }
    out += layout.collisions.map { "\(name): \($0)" }
    // Text lies inside its estimated box (a few pixels of slack for antialiasing): the title
    // line's band across the whole width, each label's band across its cell.
    let slack = 3
    for (line, box) in zip(layout.titleLines, layout.titleBoxes) where !line.isEmpty {
      let band = Rect(x: 0, y: box.y, width: layout.width, height: box.height)
      guard let ink = pic.inkBox(in: band) else {
        out.append("\(name): title line '\(line)' not drawn")
        continue
      }
      if ink.x < box.x - slack || ink.right > box.right + slack {
        out.append("\(name): title '\(line)' inked \(ink), its box \(box)")
      }
      if ink.x < 2 || ink.right > layout.width - 2 {
        out.append("\(name): title clipped at the figure's edge (\(ink))")
      }
    }
    for (i, (box, cell)) in zip(layout.labelBoxes, layout.cells).enumerated() {
      let band = Rect(x: cell.x, y: box.y, width: cell.width, height: box.height)
      guard let ink = pic.inkBox(in: band) else {
        out.append("\(name): label of panel \(i + 1) not drawn")
        continue
      }
      if ink.x < box.x - slack || ink.right > box.right + slack || ink.y < box.y
        || ink.bottom > box.bottom
      {
        out.append("\(name): label of panel \(i + 1) inked \(ink), its box \(box)")
      }
    }
    // Nothing crosses from one panel into the next (a legend wider than its panel did): the
    // columns where cells meet are background.
    for cell in layout.cells where cell.x > 0 {
      if let ink = pic.inkBox(in: Rect(x: cell.x, y: cell.y, width: 1, height: cell.height)) {
        out.append("\(name): ink \(ink) on the border between panels at x = \(cell.x)")
      }
    }
    // Background between the title and the first row of labels.
    if let title = layout.titleBoxes.last, let first = layout.labelBoxes.map(\.y).min(),
      first > title.bottom,
      let ink = pic.inkBox(
        in: Rect(x: 0, y: title.bottom, width: layout.width, height: first - title.bottom))
    {
      out.append("\(name): ink \(ink) between the title and the panel labels")
    }
    if let bar = layout.colourBar {
      // The bar runs from viridis' dark purple to its yellow.
      let y = bar.y + bar.height / 2
      let left = (y * pic.width + bar.x + 2) * 3, right = (y * pic.width + bar.right - 3) * 3
      let (lr, lg, lb) = heatColor(0), (rr, rg, rb) = heatColor(1)
      func near(_ p: Int, _ c: (UInt8, UInt8, UInt8)) -> Bool {
        abs(Int(pic.rgb[p]) - Int(c.0)) < 40 && abs(Int(pic.rgb[p + 1]) - Int(c.1)) < 40
          && abs(Int(pic.rgb[p + 2]) - Int(c.2)) < 40
      }
      if !near(left, (lr, lg, lb)) || !near(right, (rr, rg, rb)) {
        out.append("\(name): no colour bar at \(bar)")
      }
    }
    return out
  }

  @Test func everyFigureKindLaysItselfOut() throws {
    let dir = try scratchFolder("layout")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let session = quietSession(in: dir)
    let video = exampleVideo("single_face.mp4"), cutVideo = exampleVideo("face_noface.mov")
    try session.interpreter.run(
      """
      clip = load("\(video)", crop: "face")
      f = model "svfap-tiny" task: "finetune" seed: 2
      m = model "svfap-tiny" seed: 1
      train m clip steps: 3 every: 100 log: "first-run.jsonl"
      """)
    // (name, command, whether it draws heat colours)
    let figures: [(String, String, Bool)] = [
      ("montage", "show clip", false),
      (
        "boxes", "show load(\"\(cutVideo)\", crop: \"face\", start: 56, quiet: true) boxes: true",
        false
      ),
      ("mask", "show_mask clip tube(0.9, seed: 2) model: m", false),
      ("reconstruction", "show reconstruct(m, clip, mask: tube(0.9, seed: 2))", false),
      (
        "normalized reconstruction",
        "show reconstruct(m, clip, mask: tube(0.9, seed: 2)) mode: \"normalized\" error_map: true",
        true
      ),
      ("attention", "show_attention f clip layer: 1 query: [4, 5, 5]", true),
      ("attention per head", "show_attention f clip per_head: true query: [4, 5, 5]", true),
      ("rollout", "show_attention f clip rollout: true", true),
      ("bottleneck stage 3", "show_bottleneck f clip stage: 3 token: 1", true),
      ("curves", "show m", false),
      ("several runs", "show_curves m \"first-run.jsonl\" text: false", false),
      (
        "runs with long names",
        "show_curves m \"first-run.jsonl\" names: [\"svfap-tiny pretraining (scripts/pretrain-tiny 12000 0.05)\", \"b\"] text: false",
        false
      ),
      (
        "confusion",
        "show_confusion [0, 1, 1, 2] [0, 1, 0, 2] classes: [\"neutral\", \"happiness\", \"sadness\"]",
        false
      ),
      ("scatter", "show_scatter [0.1, 0.5, 0.4] [0.2, 0.6, 0.3] name: \"valence\"", false),
    ]
    var failures: [String] = []
    for (i, (name, command, heat)) in figures.enumerated() {
      let path = "\(dir)/figure-\(i).png"
      try session.interpreter.run(command + " file: \"\(path)\"")
      let layout = try #require(session.lastLayout)
      #expect((layout.colourBar != nil) == heat, "\(name): colour bar \(layout.colourBar as Any)")
      failures += problems(name, try decode(path), layout)
    }
    #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
  }

  @Test func aNarrowFigureGrowsForItsTitleAndLongTitlesWrap() {
    let pixel = Figure.Panel.image(
      rgb: [UInt8](repeating: 0, count: 3 * 4), width: 2, height: 2, title: "slice 0")
    let narrow = Figure(
      title: "bottleneck token 1 of stage 3: weights over the spatial tokens per time slice",
      panels: [pixel, pixel], columns: 2, panelWidth: 150, panelHeight: 150)
    let layout = FigureLayout(narrow)
    #expect(layout.titleLines.count == 1)
    #expect(layout.width >= FigureLayout.textWidth(narrow.title) + 2 * FigureLayout.padding)
    let long = Figure(
      title: String(repeating: "a long title word ", count: 20), panels: [pixel], columns: 1)
    let wrapped = FigureLayout(long)
    #expect(wrapped.width == FigureLayout.widestForTitle && wrapped.titleLines.count > 1)
    #expect(wrapped.titleBoxes.allSatisfy { $0.x >= 0 && $0.right <= wrapped.width })
    #expect(wrapped.collisions.isEmpty, "\(wrapped.collisions)")
  }

  @Test func ticksLeaveRoomForTheirLabels() {
    // 0…140 over 270 px with 3-digit labels: every 50 (not every 20, which ran together).
    #expect(tickStep(low: 0, high: 140, pixels: 270, labelChars: 3) == 50)
    #expect(tickStep(low: 0, high: 12000, pixels: 600, labelChars: 5) == 2000)
    #expect(abs(tickStep(low: 0, high: 1, pixels: 600, labelChars: 3) - 0.1) < 1e-12)
    #expect(tickStep(low: 3, high: 3, pixels: 600, labelChars: 3) == 1)
  }
}
