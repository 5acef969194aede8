import Foundation
import TestSupport
import Testing

@testable import Media
@testable import Plot
@testable import SVFAP
@testable import Script
@testable import Tensor
@testable import Workbench

/// Every figure kind rendered by a real gnuplot from real data (an example clip, real forward
/// passes of a small model), decoded back and checked for size and content.
@Suite(
  .serialized, .tags(.gnuplot, .python),
  .enabled(
    if: installed("gnuplot") && installed("python3"),
    "gnuplot or python3 is not installed (scripts/setup installs them)"))
struct PlotTests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

  /// (width, height, pixel variance, fraction of pure-grey 128 pixels) of a PNG, decoded by
  /// Python's zlib.
  func pngStats(_ path: String) throws -> (Int, Int, Double, Double) {
    let script = """
      import sys, zlib, struct
      d = open(sys.argv[1], "rb").read()
      assert d[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
      pos, idat, w, h, ct = 8, b"", 0, 0, 0
      while pos < len(d):
          n, t = struct.unpack(">I4s", d[pos:pos + 8]); body = d[pos + 8:pos + 8 + n]; pos += 12 + n
          if t == b"IHDR": w, h, bd, ct = struct.unpack(">IIBB", body[:10])
          if t == b"IDAT": idat += body
      bpp = {2: 3, 6: 4}[ct]
      raw = zlib.decompress(idat); stride = w * bpp; out = bytearray(); prev = bytearray(stride); i = 0
      for y in range(h):
          f = raw[i]; line = bytearray(raw[i + 1:i + 1 + stride]); i += 1 + stride
          for x in range(stride):
              a = line[x - bpp] if x >= bpp else 0; b = prev[x]; c = prev[x - bpp] if x >= bpp else 0
              if f == 1: line[x] = (line[x] + a) & 255
              elif f == 2: line[x] = (line[x] + b) & 255
              elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
              elif f == 4:
                  p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                  line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
          out += line; prev = line
      px = [(out[k], out[k + 1], out[k + 2]) for k in range(0, len(out), bpp)]
      lum = [sum(p) / 3 for p in px]; m = sum(lum) / len(lum)
      var = sum((v - m) ** 2 for v in lum) / len(lum)
      grey = sum(1 for p in px if p == (128, 128, 128)) / len(px)
      print(w, h, var, grey)
      """
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["python3", "-c", script, path]
    let out = Pipe()
    p.standardOutput = out
    try p.run()
    let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    let f = text.split(separator: " ").map {
      Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }
    guard f.count == 4 else { throw PlotError("cannot decode \(path)") }
    return (Int(f[0]), Int(f[1]), f[2], f[3])
  }

  func tmp(_ name: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent(
      "svfap-plot-\(UUID().uuidString)-\(name)"
    ).path
  }

  func realClip() throws -> Tensor {
    try VideoReader(path: Self.root.appendingPathComponent("examples/media/single_face.mp4").path)
      .clip(ClipSpec()).tensor
  }

  @Test func montageAndMaskFromARealClip() throws {
    let clip = try realClip()
    let path = tmp("montage.png")
    let montage = Figures.montage(clip, source: nil)
    try Gnuplot.shared.render(montage, to: path)
    let (w, h, v, _) = try pngStats(path)
    let layout = FigureLayout(montage)
    #expect(w == layout.width && h == layout.height && w >= 8 * 150 && v > 100)
    let cfg = SVFAPConfig()
    var rng = SplitMix64(seed: 2)
    let mask = try TokenMask.tube(batch: 1, slices: 8, perSlice: 100, ratio: 0.75, rng: &rng)
    let (fig, frac) = Figures.maskFigure(clip, mask: mask, config: cfg)
    #expect(abs(frac - 0.75) < 1e-9)
    let mpath = tmp("mask.png")
    try Gnuplot.shared.render(fig, to: mpath)
    let (_, _, mv, grey) = try pngStats(mpath)
    // The greyed area follows the mask ratio: 0.75 against 0.5 gives 1.5 times the grey pixels.
    let half = try TokenMask.tube(batch: 1, slices: 8, perSlice: 100, ratio: 0.5, rng: &rng)
    let hpath = tmp("mask-half.png")
    try Gnuplot.shared.render(Figures.maskFigure(clip, mask: half, config: cfg).0, to: hpath)
    let (_, _, _, greyHalf) = try pngStats(hpath)
    #expect(mv > 50 && abs(grey / greyHalf - 1.5) < 0.1, "grey fractions \(grey) and \(greyHalf)")
  }

  @Test func reconstructionAttentionBottleneckCurvesConfusionScatter() throws {
    let clip = try realClip()
    let cfg = try SVFAPConfig.preset("svfap-tiny")
    let model = try PretrainModel(cfg, seed: 1)
    var rng = SplitMix64(seed: 3)
    let mask = try TokenMask.tube(batch: 1, slices: 8, perSlice: 100, ratio: 0.9, rng: &rng)
    let out = try withNoGrad { try model(clip, mask: mask) }
    for mode in Figures.ReconstructionMode.allCases {
      let p = tmp("recon.png")
      let figure = Figures.reconstruction(
        clip, prediction: out, mask: mask, config: cfg, mode: mode, frames: [0, 8])
      try Gnuplot.shared.render(figure, to: p)
      let (w, h, v, _) = try pngStats(p)
      let layout = FigureLayout(figure)
      #expect(w == layout.width && h == layout.height && w >= 4 * 170 && v > 100)
    }
    // Attention maps and bottleneck maps through the session's commands.
    let session = Session()
    let dir = tmp("figs")
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    session.interpreter.currentDirectory = dir
    session.interpreter.output = { _ in }
    session.interpreter.globals["clip"] = .handle(
      ClipHandle(
        try VideoReader(
          path: Self.root.appendingPathComponent("examples/media/single_face.mp4").path
        ).clip(ClipSpec())))
    try session.interpreter.run(
      """
      f = model "svfap-tiny" task: "finetune" seed: 2
      show_attention f clip layer: 1 query: 455 file: "att.png"
      show_attention f clip layer: 1 rollout: true file: "rollout.png"
      show_bottleneck f clip stage: 2 token: 1 file: "bottleneck.png"
      m = model "svfap-tiny" seed: 1
      train m clip steps: 3 every: 100
      show m file: "curves.png"
      show reconstruct(m, clip, mask: tube(0.9, seed: 2)) file: "recon.svg"
      show_confusion [0, 1, 1, 2] [0, 1, 0, 2] classes: ["neutral", "happy", "sad"] file: "confusion.png"
      show_scatter [0.1, 0.5, 0.4] [0.2, 0.6, 0.3] name: "valence" file: "scatter.png"
      """)
    for name in [
      "att.png", "rollout.png", "bottleneck.png", "curves.png", "confusion.png", "scatter.png",
    ] {
      let (w, h, v, _) = try pngStats(dir + "/" + name)
      #expect(w >= 300 && h >= 150 && v > 20, "\(name): \(w)x\(h) variance \(v)")
    }
    #expect(try String(contentsOfFile: dir + "/recon.svg", encoding: .utf8).contains("<svg"))
  }

}
