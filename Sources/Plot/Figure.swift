/// A figure: panels laid out in a grid, rendered by gnuplot. Panels hold plain data (pixels,
/// numbers), so this layer knows nothing about models or videos.
public struct Figure: Sendable {
  /// One panel.
  public enum Panel: Sendable {
    /// An RGB picture (row-major, top row first, 3 bytes per pixel).
    case image(rgb: [UInt8], width: Int, height: Int, title: String)
    /// Line series: name, x, y.
    case curves(
      series: [(name: String, x: [Double], y: [Double])], xLabel: String, yLabel: String,
      logY: Bool, title: String)
    /// A matrix of values drawn as colours with the numbers written in (confusion matrices).
    case matrix(values: [[Double]], rowLabels: [String], columnLabels: [String], title: String)
    /// Points (predicted vs true).
    case scatter(x: [Double], y: [Double], xLabel: String, yLabel: String, title: String)

    /// The panel's label.
    public var title: String {
      switch self {
      case .image(_, _, _, let t), .curves(_, _, _, _, let t), .matrix(_, _, _, let t),
        .scatter(_, _, _, _, let t):
        return t
      }
    }
  }

  /// The figure's title.
  public var title: String
  /// Panels, row by row.
  public var panels: [Panel]
  /// Panels per row.
  public var columns: Int
  /// Pixel size of one panel.
  public var panelWidth: Int, panelHeight: Int
  /// The scale of the figure's heat colours (drawn as a colour bar under the panels), if any.
  public var colourScale: ColourScale?

  /// What the heat colours of a figure stand for: `low` at the dark end, `high` at the bright end.
  public struct ColourScale: Sendable, Equatable {
    /// The values at both ends and what they measure.
    public var low: Double, high: Double, label: String
    /// A scale.
    public init(low: Double, high: Double, label: String) {
      (self.low, self.high, self.label) = (low, high, label)
    }
  }

  /// A figure.
  public init(
    title: String, panels: [Panel], columns: Int, panelWidth: Int = 200, panelHeight: Int = 200
  ) {
    self.title = title
    self.panels = panels
    self.columns = max(1, columns)
    self.panelWidth = panelWidth
    self.panelHeight = panelHeight
  }

  /// The same figure with a colour bar for `scale`.
  public func with(_ scale: ColourScale) -> Figure {
    var f = self
    f.colourScale = scale
    return f
  }

  /// Rows of the grid.
  public var rows: Int { (panels.count + columns - 1) / columns }
}

/// A value in [0, 1] as a byte; NaN and infinities (a diverged model) draw as black or white, never
/// trap.
public func pixelByte(_ v: Double) -> UInt8 {
  v.isNaN ? 0 : UInt8((min(max(v, 0), 1) * 255).rounded(.down))
}

/// Maps v in [0, 1] to viridis (dark purple → blue → green → yellow): perceptually uniform, so equal
/// steps in value look like equal steps in colour, and readable over skin tones.
public func heatColor(_ v: Double) -> (UInt8, UInt8, UInt8) {
  let x = v.isNaN ? 0 : min(max(v, 0), 1) * Double(viridisStops.count - 1)
  let i = min(Int(x), viridisStops.count - 2), t = x - Double(i)
  let (a, b) = (viridisStops[i], viridisStops[i + 1])
  func mix(_ p: Double, _ q: Double) -> UInt8 { pixelByte(p + (q - p) * t) }
  return (mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Viridis at eleven evenly spaced points (matplotlib's table).
let viridisStops: [(Double, Double, Double)] = [
  (0.267, 0.005, 0.329), (0.283, 0.141, 0.458), (0.254, 0.265, 0.530), (0.207, 0.372, 0.553),
  (0.164, 0.471, 0.558), (0.128, 0.567, 0.551), (0.135, 0.659, 0.518), (0.267, 0.749, 0.441),
  (0.478, 0.821, 0.318), (0.741, 0.873, 0.150), (0.993, 0.906, 0.144),
]

/// A colour bar: `width` × `height` pixels of the heat colours, low on the left.
public func colourBar(width: Int, height: Int) -> [UInt8] {
  var out = [UInt8](repeating: 0, count: max(width, 1) * max(height, 1) * 3)
  for x in 0..<max(width, 1) {
    let (r, g, b) = heatColor(Double(x) / Double(max(width - 1, 1)))
    for y in 0..<max(height, 1) {
      let p = (y * width + x) * 3
      (out[p], out[p + 1], out[p + 2]) = (r, g, b)
    }
  }
  return out
}

/// An RGB picture with a coarse heat map (gridW × gridH values in [0, 1]) blended over it at
/// opacity `alpha` (cells whose `skip` is true keep the picture); the cell `marked` (an index into
/// `heat`) gets a white outline.
public func overlay(
  rgb: [UInt8], width: Int, height: Int, heat: [Double], gridW: Int, gridH: Int,
  alpha: Double = 0.55, marked: Int? = nil, skip: [Bool] = []
) -> [UInt8] {
  var out = rgb
  for y in 0..<height {
    for x in 0..<width {
      let k = min(y * gridH / height, gridH - 1) * gridW + min(x * gridW / width, gridW - 1)
      if skip.indices.contains(k) && skip[k] { continue }
      let v = heat.indices.contains(k) ? heat[k] : 0
      let (r, g, b) = heatColor(v), p = (y * width + x) * 3
      out[p] = pixelByte((Double(rgb[p]) * (1 - alpha) + Double(r) * alpha) / 255)
      out[p + 1] = pixelByte((Double(rgb[p + 1]) * (1 - alpha) + Double(g) * alpha) / 255)
      out[p + 2] = pixelByte((Double(rgb[p + 2]) * (1 - alpha) + Double(b) * alpha) / 255)
    }
  }
  if let marked, marked >= 0, marked < gridW * gridH {
    let (cx, cy) = (marked % gridW, marked / gridW)
    let (x0, x1) = (cx * width / gridW, max((cx + 1) * width / gridW - 1, cx * width / gridW))
    let (y0, y1) = (cy * height / gridH, max((cy + 1) * height / gridH - 1, cy * height / gridH))
    drawOutline(
      &out, width: width, height: height, x0: x0, y0: y0, x1: x1, y1: y1,
      colour: (255, 255, 255), thickness: 1)
  }
  return out
}

/// Draws the outline of the pixel rectangle x0…x1 × y0…y1 (inclusive), `thickness` pixels wide,
/// into an RGB picture; whatever lies outside the picture is left out.
public func drawOutline(
  _ rgb: inout [UInt8], width: Int, height: Int, x0: Int, y0: Int, x1: Int, y1: Int,
  colour: (UInt8, UInt8, UInt8), thickness: Int
) {
  let (left, top) = (max(x0, 0), max(y0, 0))
  let (right, bottom) = (min(x1, width - 1), min(y1, height - 1))
  guard left <= right, top <= bottom, rgb.count >= width * height * 3 else { return }
  for y in top...bottom {
    for x in left...right
    where x - x0 < thickness || x1 - x < thickness || y - y0 < thickness || y1 - y < thickness {
      let p = (y * width + x) * 3
      (rgb[p], rgb[p + 1], rgb[p + 2]) = colour
    }
  }
}
