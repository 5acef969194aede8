import Foundation
import Media
import Plot
import SVFAP
import Script
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

  /// The T frames of a clip in a grid, titled with their frame indices and, for a loaded clip, the
  /// file and crop (a still image is one panel).
  static func montage(_ clip: Tensor, source: Clip?) -> Figure {
    let (t, h, w) = (clip.shape[2], clip.shape[3], clip.shape[4])
    let indices = source?.frameIndices
    let animated = source?.animation != nil
    let still = (source?.info.frameCount ?? 2) <= 1 && !animated
    let panels = (0..<(still ? 1 : t)).map { f in
      Figure.Panel.image(
        rgb: frameRGB(clip, frame: f), width: w, height: h,
        title: still
          ? "the image (all \(t) frames)" : animated ? "step \(f)" : "frame \(indices?[f] ?? f)")
    }
    return Figure(
      title: source.map(describe) ?? "clip \(clip.shape)", panels: panels,
      columns: min(panels.count, 8), panelWidth: 150, panelHeight: 150)
  }

  /// "file, face crop, frames a…b every s": where a clip came from (summaries and figure titles).
  static func describe(_ c: Clip) -> String {
    let file = (c.info.path as NSString).lastPathComponent
    let i = c.frameIndices
    let step = i.count > 1 ? i[1] - i[0] : 0
    let crop = "\(c.cropName) crop" + (c.detector.map { " (\($0))" } ?? "")
    if let animation = c.animation {
      return "\(file), \(crop), frame \(i.first ?? 0) as an \(animation)"
    }
    return "\(file), \(crop), frames \(i.first ?? 0)…\(i.last ?? 0) every \(step)"
  }

  /// The uncropped frames of a loaded clip with its crop box drawn on each (yellow; red where the
  /// face check found no face on the frame).
  static func cropBoxes(_ c: Clip) throws -> Figure {
    let reader = try VideoReader(path: c.info.path)
    let short = 160.0, scale = short / Double(max(min(c.info.width, c.info.height), 1))
    let (w, h) = (
      max(Int((Double(c.info.width) * scale).rounded()) / 2 * 2, 2),
      max(Int((Double(c.info.height) * scale).rounded()) / 2 * 2, 2)
    )
    let frames = try reader.frames(c.frameIndices, width: w, height: h)
    let found = c.faceReport?.found
    var panels: [Figure.Panel] = []
    for (k, var rgb) in frames.enumerated() {
      if k < c.sourceBoxes.count {
        let b = c.sourceBoxes[k].map { $0 * scale }
        let colour: (UInt8, UInt8, UInt8) =
          found.map { $0[k] } == false ? (230, 40, 40) : (255, 215, 0)
        outline(&rgb, width: w, height: h, box: b, colour: colour)
      }
      panels.append(.image(rgb: rgb, width: w, height: h, title: "frame \(c.frameIndices[k])"))
    }
    var title =
      describe(c)
      + ": the crop box on the uncropped frames (yellow: the detector found a face there; red: it did not, the box is carried from the nearest frame with one)"
    if let r = c.faceReport {
      title += String(
        format: "; face on %d of %d frames, %d cut(s)", r.withFace, r.found.count, r.cuts.count)
    }
    return Figure(
      title: title, panels: panels, columns: min(panels.count, 4),
      panelWidth: max(150, min(w, 240)), panelHeight: min(h, 180))
  }

  /// Draws a 2-pixel outline of `box` (x, y, width, height) into an RGB picture, clipped to it.
  static func outline(
    _ rgb: inout [UInt8], width w: Int, height h: Int, box b: [Double],
    colour: (UInt8, UInt8, UInt8)
  ) {
    guard b.count == 4, b.allSatisfy(\.isFinite), b.allSatisfy({ abs($0) < 1e9 }) else { return }
    drawOutline(
      &rgb, width: w, height: h, x0: Int(b[0]), y0: Int(b[1]), x1: Int(b[0] + b[2]),
      y1: Int(b[1] + b[3]), colour: colour, thickness: 2)
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
  static func maskFigure(
    _ clip: Tensor, mask: TokenMask, config c: SVFAPConfig, frameNumbers: [Int]? = nil
  ) -> (Figure, greyFraction: Double) {
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
        .image(
          rgb: rgb, width: w, height: h,
          title: "slice \(t) (\(frameLabel(t * c.tubelet, frameNumbers)))"))
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

  /// The displayed reconstruction of clip 0: per frame, [0, 1] RGB of the predicted (hidden)
  /// pixels, of the normalized target at the same pixels (value × 0.2 + 0.5), which pixels were
  /// predicted, and per hidden token the mean squared error in the target space (the loss).
  static func reconstructedFrames(
    _ clip: Tensor, prediction: Tensor, mask: TokenMask, config c: SVFAPConfig,
    mode: ReconstructionMode
  ) -> (rgb: [[Float]], target: [[Float]], known: [[Bool]], tokenError: [Int: Double]) {
    let (h, w, T) = (clip.shape[3], clip.shape[4], clip.shape[2])
    let per = c.tubelet * c.patchSize * c.patchSize, vals = per * 3
    let pred = prediction.pointer(Float.self)  // (B, masked, tubelet·p·p·3)
    let blank = [Float](repeating: 0.5, count: h * w * 3)
    var recon = [[Float]](repeating: blank, count: T), target = recon
    var known = [[Bool]](repeating: [Bool](repeating: false, count: h * w), count: T)
    var tokenError: [Int: Double] = [:]
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
      var squared = 0.0
      for ch in 0..<3 {
        // The hidden patch's statistics (the target's normalization).
        let values = positions.map { pixel(ch, $0.0, $0.1, $0.2) }
        let mean = values.reduce(0, +) / Float(per)
        let sd =
          (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(per - 1)).squareRoot()
          + 1e-6
        for (k, (f, y, x)) in positions.enumerated() {
          let v = pred[j * vals + k * 3 + ch], truth = (values[k] - mean) / sd
          squared += Double((v - truth) * (v - truth))
          let shown = mode == .patchStatistics ? v * sd + mean : v * 0.2 + 0.5
          recon[f][(y * w + x) * 3 + ch] = min(max(shown, 0), 1)
          target[f][(y * w + x) * 3 + ch] = min(max(truth * 0.2 + 0.5, 0), 1)
          known[f][y * w + x] = true
        }
      }
      tokenError[n] = squared / Double(vals)
    }
    return (recon, target, known, tokenError)
  }

  /// Per selected frame: original | masked | reconstruction | with visible pasted (patch-stats),
  /// or original | masked | target | prediction in the normalized target space; with `errorMap`,
  /// each hidden patch's squared error in the target space as heat over the frame.
  static func reconstruction(
    _ clip: Tensor, prediction: Tensor, mask: TokenMask, config c: SVFAPConfig,
    mode: ReconstructionMode, frames: [Int], errorMap: Bool = false, frameNumbers: [Int]? = nil,
    model: String = ""
  ) -> Figure {
    let (h, w, T) = (clip.shape[3], clip.shape[4], clip.shape[2])
    let shown = reconstructedFrames(
      clip, prediction: prediction, mask: mask, config: c, mode: mode)
    let errors = shown.tokenError.values
    let (lo, hi) = (errors.min() ?? 0, errors.max() ?? 1)
    var panels: [Figure.Panel] = []
    for f in frames where f < T {
      let original = frameRGB(clip, frame: f)
      var masked = original, onlyPred = original, pasted = original, target = original
      for i in 0..<(h * w) {
        for ch in 0..<3 {
          if shown.known[f][i] {
            masked[i * 3 + ch] = 128
            let v = pixelByte(Double(shown.rgb[f][i * 3 + ch]))
            (onlyPred[i * 3 + ch], pasted[i * 3 + ch]) = (v, v)
            target[i * 3 + ch] = pixelByte(Double(shown.target[f][i * 3 + ch]))
          } else {
            (onlyPred[i * 3 + ch], target[i * 3 + ch]) = (128, 128)
          }
        }
      }
      let image = { (rgb: [UInt8], title: String) in
        Figure.Panel.image(rgb: rgb, width: w, height: h, title: title)
      }
      panels.append(image(original, "\(frameLabel(f, frameNumbers)): original"))
      panels.append(image(masked, "masked"))
      if mode == .normalized {
        panels += [image(target, "target (normalized)"), image(onlyPred, "prediction")]
      } else {
        panels += [image(onlyPred, "reconstruction"), image(pasted, "with visible pasted")]
      }
      if errorMap {
        let slice = f / c.tubelet
        let heat = (0..<c.tokensPerSlice).map { k -> Double in
          guard let e = shown.tokenError[slice * c.tokensPerSlice + k] else { return .nan }
          return (e - lo) / max(hi - lo, 1e-12)
        }
        panels.append(
          image(
            overlay(
              rgb: original, width: w, height: h, heat: heat.map { $0.isNaN ? 0 : $0 },
              gridW: c.gridSide, gridH: c.gridSide, alpha: 0.7,
              skip: heat.map(\.isNaN)),
            "error per hidden patch"))
      }
    }
    let title =
      mode == .patchStatistics
      ? """
      reconstruction, un-normalized with each hidden patch's own mean and std (so it borrows the \
      hidden pixels' brightness and contrast; mode: "normalized" compares like with like)
      """
      : """
      the normalized target space: each hidden tubelet's pixels minus their mean, over their std \
      (drawn as value x 0.2 + 0.5, grey = 0); the target beside the model's prediction
      """
    let figure = Figure(
      title: model.isEmpty ? title : model + ": " + title, panels: panels,
      columns: errorMap ? 5 : 4, panelWidth: 170, panelHeight: 170)
    return errorMap
      ? figure.with(Figure.ColourScale(low: lo, high: hi, label: "squared error per hidden patch"))
      : figure
  }

  /// Loss, learning rate and gradient norm against step, one line per run.
  static func trainingCurves(_ runs: [(String, [StepLog])], title: String = "training") -> Figure {
    func series(_ key: (StepLog) -> Double) -> [(name: String, x: [Double], y: [Double])] {
      runs.map { (name: $0.0, x: $0.1.map { Double($0.step) }, y: $0.1.map(key)) }
    }
    // Long runs: each run's loss also as a running mean, so the trend shows through the noise.
    var loss = series(\.loss)
    for (name, log) in runs where log.count >= 200 {
      let window = max(log.count / 50, 10)
      loss.append(
        (
          name: "\(name) (running mean, \(window))",
          x: log.map { Double($0.step) }.dropFirst(window - 1).map { $0 },
          y: runningMean(log.map(\.loss), window: window)
        ))
    }
    return Figure(
      title: title,
      panels: [
        .curves(series: loss, xLabel: "step", yLabel: "loss", logY: false, title: "loss"),
        .curves(
          series: series(\.lr), xLabel: "step", yLabel: "lr", logY: false, title: "learning rate"),
        .curves(
          series: series(\.gradNorm), xLabel: "step", yLabel: "grad norm", logY: false,
          title: "gradient norm"),
        .curves(
          series: series(\.clipsPerSecond), xLabel: "step", yLabel: "clips/s", logY: false,
          title: "throughput"),
      ], columns: 2, panelWidth: 400, panelHeight: 240)
  }

  /// Means of each `window` consecutive values (count − window + 1 of them).
  static func runningMean(_ xs: [Double], window: Int) -> [Double] {
    guard window >= 1, xs.count >= window else { return [] }
    var out: [Double] = [], sum = xs[0..<window].reduce(0, +)
    out.append(sum / Double(window))
    for i in window..<xs.count {
      sum += xs[i] - xs[i - window]
      out.append(sum / Double(window))
    }
    return out
  }

  /// Heat maps over the frames: one value per token (T' × S, or rows × T' × S with `rowNames`),
  /// drawn on the first frame of each slice (labelled with the video's frame number when
  /// `frameNumbers` gives them). The colour scale is shared, or each row's own with `perRowScale`
  /// (each row's range in its name). The marked token (a rollout's query, whose weight on itself
  /// dwarfs the rest) stays off the scale when `unscaledMark`. A scale whose values spread less
  /// than 5 % of their size is drawn from 0 and the title says the map is nearly uniform.
  static func tokenHeat(
    _ clip: Tensor, values: [Double], slices: Int, config c: SVFAPConfig, title: String,
    opacity: Double = 0.55, marked: (slice: Int, token: Int)? = nil,
    scaleLabel: String = "weight", rowNames: [String]? = nil, slicesToShow: [Int]? = nil,
    frameNumbers: [Int]? = nil, perRowScale: Bool = false, unscaledMark: Bool = false
  ) -> Figure {
    let (h, w) = (clip.shape[3], clip.shape[4])
    let names = rowNames ?? [""]
    let perSlice = values.count / max(slices * names.count, 1)
    let perRow = slices * perSlice
    let markIndex = marked.map { $0.slice * perSlice + $0.token }
    /// The scale of a set of indices: (low, high), the mark left out when asked; from 0 when
    /// nearly uniform.
    func scale(_ range: Range<Int>) -> (lo: Double, hi: Double, uniform: Bool, marked: Double?) {
      var lo = Double.infinity, hi = -Double.infinity, mark: Double?
      for i in range where i < values.count {
        if unscaledMark, let m = markIndex, (i - range.lowerBound) == m {
          mark = values[i]
          continue
        }
        (lo, hi) = (min(lo, values[i]), max(hi, values[i]))
      }
      guard lo.isFinite, hi.isFinite else { return (0, 1, false, mark) }
      let uniform = hi - lo < 0.05 * max(abs(hi), abs(lo), 1e-300)
      return (uniform ? min(0, lo) : lo, hi, uniform, mark)
    }
    let rowScales = (0..<names.count).map { r in
      perRowScale ? scale(r * perRow..<(r + 1) * perRow) : scale(0..<values.count)
    }
    let shown = slicesToShow ?? Array(0..<slices)
    var panels: [Figure.Panel] = []
    for (r, name) in names.enumerated() {
      let sc = rowScales[r]
      var rowName = name
      if perRowScale && !name.isEmpty {
        rowName += " (\(Value.format(round4(sc.lo)))–\(Value.format(round4(sc.hi))))"
      }
      for t in shown {
        let base = (r * slices + t) * perSlice
        let heat = (0..<perSlice).map {
          min(max((values[base + $0] - sc.lo) / max(sc.hi - sc.lo, 1e-12), 0), 1)
        }
        let frame = min(t * (c.frames / max(slices, 1)), c.frames - 1)
        let label =
          (rowName.isEmpty ? "" : rowName + ", ")
          + "slice \(t) (\(frameLabel(frame, frameNumbers)))"
        panels.append(
          .image(
            rgb: overlay(
              rgb: frameRGB(clip, frame: frame), width: w, height: h, heat: heat,
              gridW: c.gridSide, gridH: c.gridSide, alpha: opacity,
              marked: marked?.slice == t ? marked?.token : nil),
            width: w, height: h, title: marked?.slice == t ? label + " (query)" : label))
      }
    }
    var fullTitle = title
    if let mark = rowScales.first?.marked, !perRowScale || names.count == 1 {
      fullTitle +=
        "; the query's own token (\(Value.format(round4(mark)))) is left off the colour scale"
    }
    if rowScales.contains(where: \.uniform) {
      let sc = rowScales.first(where: \.uniform) ?? rowScales[0]
      fullTitle +=
        "; nearly uniform: the values span less than 5 % (up to \(Value.format(round4(sc.hi)))), drawn from 0"
    }
    let figure = Figure(
      title: fullTitle, panels: panels, columns: min(shown.count, 8), panelWidth: 150,
      panelHeight: 150)
    if perRowScale && names.count > 1 {
      return figure.with(
        Figure.ColourScale(low: 0, high: 1, label: scaleLabel + ", each head's own min to max"))
    }
    let sc = rowScales[0]
    return figure.with(Figure.ColourScale(low: sc.lo, high: sc.hi, label: scaleLabel))
  }

  /// A value to four significant digits.
  static func round4(_ x: Double) -> Double {
    guard x != 0, x.isFinite else { return x }
    let scale = pow(10, 3 - floor(log10(abs(x))))
    return (x * scale).rounded() / scale
  }

  /// A clip frame's label: the video's frame number when known ("frame 17"), else its index in
  /// the clip ("clip frame 4").
  static func frameLabel(_ f: Int, _ numbers: [Int]?) -> String {
    guard let numbers, f >= 0, f < numbers.count else { return "clip frame \(f)" }
    return "frame \(numbers[f])"
  }
}
