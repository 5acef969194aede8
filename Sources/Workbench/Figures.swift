import Foundation
import Media
import Plot
import SVFAP
import Tensor

/// Builds figures from clips, masks, predictions and models (the plot layer only sees pixels and
/// numbers).
enum Figures {
  /// Frame f of clip b as RGB24 (un-normalized).
  static func frameRGB(_ clip: Tensor, batch b: Int = 0, frame f: Int) -> [UInt8] {
    let (t, h, w) = (clip.shape[2], clip.shape[3], clip.shape[4])
    let p = clip.pointer(Float.self)
    var out = [UInt8](repeating: 0, count: h * w * 3)
    for c in 0..<3 {
      let plane = p + ((b * 3 + c) * t + f) * h * w
      for i in 0..<(h * w) { out[i * 3 + c] = pixelByte(Double(unnormalize(plane[i], channel: c))) }
    }
    return out
  }

  /// The T frames of a clip in a grid, titled with their frame indices.
  static func montage(_ clip: Tensor, indices: [Int]?) -> Figure {
    let (t, h, w) = (clip.shape[2], clip.shape[3], clip.shape[4])
    let panels = (0..<t).map { f in
      Figure.Panel.image(
        rgb: frameRGB(clip, frame: f), width: w, height: h, title: "frame \(indices?[f] ?? f)")
    }
    return Figure(
      title: "clip \(clip.shape)", panels: panels, columns: min(t, 8), panelWidth: 150,
      panelHeight: 160)
  }

  /// Checks that clips (B, 3, T, H, W) fit the token grid of `c` (every figure indexes pixels by
  /// it).
  static func check(clip: Tensor, fits c: SVFAPConfig) throws {
    let want = [3, c.frames, c.imgSize, c.imgSize]
    guard clip.rank == 5, clip.shape[0] >= 1, Array(clip.shape.dropFirst()) == want,
      clip.dtype == .float32
    else {
      throw SVFAPError.badConfig(
        """
        the clip \(clip.shape) does not fit the model's grid (B, \
        \(want.map(String.init).joined(separator: ", ")))
        """
      )
    }
  }

  /// Checks that a prediction (B, masked, values) and a mask belong to `clip` under `c`.
  static func check(
    reconstructionOf clip: Tensor, prediction: Tensor, mask: TokenMask, config c: SVFAPConfig
  ) throws {
    try check(clip: clip, fits: c)
    let masked = mask.masked.first?.count ?? 0
    guard mask.batch == clip.shape[0], mask.tokenCount == c.tokenCount,
      mask.masked.allSatisfy({ $0.allSatisfy { $0 >= 0 && $0 < c.tokenCount } }),
      prediction.shape == [clip.shape[0], masked, c.valuesPerTubelet], prediction.dtype == .float32
    else {
      throw SVFAPError.badConfig(
        """
        the prediction \(prediction.shape) and a mask hiding \(masked) of \(mask.tokenCount) \
        tokens do not fit the clip \(clip.shape) (want a prediction of (\(clip.shape[0]), \
        masked tokens, \(c.valuesPerTubelet)))
        """
      )
    }
  }

  /// A model grid for a bare clip (B, 3, T, H, W): svfap-base's patch and tubelet sizes at the
  /// clip's size.
  static func grid(for clip: Tensor) throws -> SVFAPConfig {
    var c = SVFAPConfig()
    guard clip.rank == 5 else {
      throw SVFAPError.badConfig("a clip must be (B, 3, T, H, W), got \(clip.shape)")
    }
    (c.frames, c.imgSize) = (clip.shape[2], clip.shape[3])
    guard clip.shape[3] == clip.shape[4], c.frames % c.tubelet == 0, c.imgSize % c.patchSize == 0
    else {
      throw SVFAPError.badConfig(
        """
        the clip \(clip.shape) does not split into \(c.tubelet)-frame tubelets of \
        \(c.patchSize)x\(c.patchSize) patches; pass model: to use its grid
        """
      )
    }
    return c
  }

  /// Patch (row, column) of token n.
  static func patchOf(_ n: Int, _ c: SVFAPConfig) -> (t: Int, r: Int, col: Int) {
    (n / c.tokensPerSlice, (n % c.tokensPerSlice) / c.gridSide, n % c.gridSide)
  }

  /// The first frame of each time slice with its masked tubes greyed.
  static func maskFigure(_ clip: Tensor, mask: TokenMask, config c: SVFAPConfig) -> (
    Figure, greyFraction: Double
  ) {
    let (h, w) = (clip.shape[3], clip.shape[4])
    var panels: [Figure.Panel] = []
    var grey = 0, total = 0
    for t in 0..<c.timeSlices {
      var rgb = frameRGB(clip, frame: t * c.tubelet)
      for n in mask.masked[0] where n / c.tokensPerSlice == t {
        let p = patchOf(n, c)
        for y in (p.r * c.patchSize)..<((p.r + 1) * c.patchSize) {
          for x in (p.col * c.patchSize)..<((p.col + 1) * c.patchSize) {
            let i = (y * w + x) * 3
            rgb[i] = 128
            rgb[i + 1] = 128
            rgb[i + 2] = 128
          }
        }
      }
      grey += mask.masked[0].filter { $0 / c.tokensPerSlice == t }.count
      total += c.tokensPerSlice
      panels.append(
        .image(rgb: rgb, width: w, height: h, title: "slice \(t) (frame \(t * c.tubelet))"))
    }
    let frac = Double(grey) / Double(max(total, 1))
    return (
      Figure(
        title: String(format: "mask: %.0f%% of the tubes hidden (grey)", frac * 100),
        panels: panels, columns: min(c.timeSlices, 8), panelWidth: 150,
        panelHeight: 160), frac
    )
  }

  /// How predictions of normalized patches are turned back into pixels for display.
  enum ReconstructionMode: String, CaseIterable {
    /// Un-normalize with each hidden patch's own mean and std (uses information from the hidden
    /// pixels).
    case patchStatistics = "patch-stats"
    /// Show the normalized target space itself (value × 0.2 + 0.5), no hidden information used.
    case normalized
  }

  /// The displayed reconstruction of clip 0: per frame, [0, 1] RGB of the predicted (hidden) pixels
  /// and which pixels were predicted.
  static func reconstructedFrames(
    _ clip: Tensor, prediction: Tensor, mask: TokenMask, config c: SVFAPConfig,
    mode: ReconstructionMode
  ) -> (rgb: [[Float]], known: [[Bool]]) {
    let (h, w, T) = (clip.shape[3], clip.shape[4], clip.shape[2])
    let per = c.tubelet * c.patchSize * c.patchSize, vals = per * 3
    let pred = prediction.pointer(Float.self)  // (B, masked, tubelet·p·p·3)
    // [0,1] RGB per frame
    var recon = [[Float]](repeating: [Float](repeating: 0.5, count: h * w * 3), count: T)
    var known = [[Bool]](repeating: [Bool](repeating: false, count: h * w), count: T)
    let px = clip.pointer(Float.self)
    func pixel(_ c_: Int, _ f: Int, _ y: Int, _ x: Int) -> Float {
      unnormalize(px[((c_ * T + f) * h + y) * w + x], channel: c_)
    }
    for (j, n) in mask.masked[0].enumerated() {
      let p = patchOf(n, c)
      // The tubelet's pixel positions (frame, y, x), in the target's order.
      var positions: [(Int, Int, Int)] = []
      for dt in 0..<c.tubelet {
        for dy in 0..<c.patchSize {
          for dx in 0..<c.patchSize {
            positions.append(
              (p.t * c.tubelet + dt, p.r * c.patchSize + dy, p.col * c.patchSize + dx))
          }
        }
      }
      for ch in 0..<3 {
        // The hidden patch's statistics (for the patch-stats mode).
        let values = positions.map { pixel(ch, $0.0, $0.1, $0.2) }
        let mean = values.reduce(0, +) / Float(per)
        let sd =
          (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(per - 1)).squareRoot()
          + 1e-6
        for (k, (f, y, x)) in positions.enumerated() {
          let v = pred[j * vals + k * 3 + ch]
          let shown = mode == .patchStatistics ? v * sd + mean : v * 0.2 + 0.5
          recon[f][(y * w + x) * 3 + ch] = min(max(shown, 0), 1)
          known[f][y * w + x] = true
        }
      }
    }
    return (recon, known)
  }

  /// Per selected frame: original | masked | reconstruction | reconstruction with visible patches
  /// pasted.
  static func reconstruction(
    _ clip: Tensor, prediction: Tensor, mask: TokenMask, config c: SVFAPConfig,
    mode: ReconstructionMode, frames: [Int]
  ) -> Figure {
    let (h, w, T) = (clip.shape[3], clip.shape[4], clip.shape[2])
    let (recon, known) = reconstructedFrames(
      clip, prediction: prediction, mask: mask, config: c, mode: mode)
    var panels: [Figure.Panel] = []
    for f in frames where f < T {
      let original = frameRGB(clip, frame: f)
      var masked = original, onlyPred = original, pasted = original
      for i in 0..<(h * w) where known[f][i] {
        for ch in 0..<3 {
          masked[i * 3 + ch] = 128
          let v = pixelByte(Double(recon[f][i * 3 + ch]))
          onlyPred[i * 3 + ch] = v
          pasted[i * 3 + ch] = v
        }
      }
      for i in 0..<(h * w) where !known[f][i] { for ch in 0..<3 { onlyPred[i * 3 + ch] = 128 } }
      panels += [
        .image(rgb: original, width: w, height: h, title: "frame \(f): original"),
        .image(rgb: masked, width: w, height: h, title: "masked"),
        .image(rgb: onlyPred, width: w, height: h, title: "reconstruction"),
        .image(rgb: pasted, width: w, height: h, title: "with visible pasted"),
      ]
    }
    let title =
      mode == .patchStatistics
      ? """
      reconstruction, un-normalized with each hidden patch's own mean/std (uses information \
      from the hidden pixels)
      """
      : "reconstruction in the normalized target space (value x 0.2 + 0.5; no hidden information)"
    return Figure(title: title, panels: panels, columns: 4, panelWidth: 170, panelHeight: 180)
  }

  /// Loss, learning rate and gradient norm against step, one line per run.
  static func trainingCurves(_ runs: [(String, [StepLog])]) -> Figure {
    func series(_ key: (StepLog) -> Double) -> [(name: String, x: [Double], y: [Double])] {
      runs.map { (name: $0.0, x: $0.1.map { Double($0.step) }, y: $0.1.map(key)) }
    }
    return Figure(
      title: "training",
      panels: [
        .curves(series: series(\.loss), xLabel: "step", yLabel: "loss", logY: false, title: "loss"),
        .curves(
          series: series(\.lr), xLabel: "step", yLabel: "lr", logY: false, title: "learning rate"),
        .curves(
          series: series(\.gradNorm), xLabel: "step", yLabel: "grad norm", logY: false,
          title: "gradient norm"),
        .curves(
          series: series(\.clipsPerSecond), xLabel: "step", yLabel: "clips/s", logY: false,
          title: "throughput"),
      ], columns: 2, panelWidth: 360, panelHeight: 240)
  }

  /// Heat maps over the frames: one value per token (T' × S), drawn on the first frame of each
  /// slice.
  static func tokenHeat(
    _ clip: Tensor, values: [Double], slices: Int, config c: SVFAPConfig, title: String,
    slicesToShow: [Int]? = nil, opacity: Double = 0.55, marked: (slice: Int, token: Int)? = nil
  ) -> Figure {
    let (h, w) = (clip.shape[3], clip.shape[4])
    let lo = values.min() ?? 0, hi = values.max() ?? 1
    let perSlice = values.count / max(slices, 1)
    var panels: [Figure.Panel] = []
    for t in slicesToShow ?? Array(0..<slices) {
      let heat = (0..<perSlice).map { (values[t * perSlice + $0] - lo) / max(hi - lo, 1e-12) }
      let frame = min(t * (c.frames / max(slices, 1)), c.frames - 1)
      panels.append(
        .image(
          rgb: overlay(
            rgb: frameRGB(clip, frame: frame), width: w, height: h, heat: heat, gridW: c.gridSide,
            gridH: c.gridSide, alpha: opacity, marked: marked?.slice == t ? marked?.token : nil),
          width: w, height: h, title: marked?.slice == t ? "slice \(t) (query)" : "slice \(t)"))
    }
    // The colour bar: the scale the colours stand for.
    panels.append(
      .image(
        rgb: colourBar(width: w, height: max(h / 8, 8)), width: w, height: max(h / 8, 8),
        title: String(format: "scale %.3g → %.3g", lo, hi)))
    return Figure(
      title: title, panels: panels, columns: min(panels.count, 8), panelWidth: 150, panelHeight: 160
    )
  }
}
