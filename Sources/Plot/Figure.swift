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
  }

  /// The figure's title.
  public var title: String
  /// Panels, row by row.
  public var panels: [Panel]
  /// Panels per row.
  public var columns: Int
  /// Pixel size of one panel.
  public var panelWidth: Int, panelHeight: Int

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

  /// Rows of the grid.
  public var rows: Int { (panels.count + columns - 1) / columns }
}

/// A value in [0, 1] as a byte; NaN and infinities (a diverged model) draw as black or white, never
/// trap.
public func pixelByte(_ v: Double) -> UInt8 {
  v.isNaN ? 0 : UInt8((min(max(v, 0), 1) * 255).rounded(.down))
}

/// Maps v in [0, 1] to an RGB colour (dark blue → cyan → yellow → red), for heat overlays.
public func heatColor(_ v: Double) -> (UInt8, UInt8, UInt8) {
  let x = min(max(v, 0), 1)
  let r = min(1, max(0, 1.5 * x - 0.25)), g = min(1, max(0, 1.5 - abs(3 * x - 1.7))),
    b = min(1, max(0, 1 - 2 * x + 0.3))
  return (pixelByte(r), pixelByte(g), pixelByte(b))
}

/// An RGB picture with a coarse heat map (gridW × gridH values in [0, 1]) blended over it.
public func overlay(
  rgb: [UInt8], width: Int, height: Int, heat: [Double], gridW: Int, gridH: Int,
  alpha: Double = 0.55
) -> [UInt8] {
  var out = rgb
  for y in 0..<height {
    for x in 0..<width {
      let k = min(y * gridH / height, gridH - 1) * gridW + min(x * gridW / width, gridW - 1)
      let v = heat.indices.contains(k) ? heat[k] : 0
      let (r, g, b) = heatColor(v), p = (y * width + x) * 3
      out[p] = pixelByte((Double(rgb[p]) * (1 - alpha) + Double(r) * alpha) / 255)
      out[p + 1] = pixelByte((Double(rgb[p + 1]) * (1 - alpha) + Double(g) * alpha) / 255)
      out[p + 2] = pixelByte((Double(rgb[p + 2]) * (1 - alpha) + Double(b) * alpha) / 255)
    }
  }
  return out
}
