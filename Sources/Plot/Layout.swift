import Foundation

/// A rectangle in pixels, from the figure's top left corner.
public struct Rect: Sendable, Equatable, CustomStringConvertible {
  /// Left edge, top edge, width and height.
  public var x: Int, y: Int, width: Int, height: Int
  /// A rectangle.
  public init(x: Int, y: Int, width: Int, height: Int) {
    (self.x, self.y, self.width, self.height) = (x, y, max(width, 0), max(height, 0))
  }
  /// One past the right edge.
  public var right: Int { x + width }
  /// One past the bottom edge.
  public var bottom: Int { y + height }
  /// Whether the two rectangles share a pixel.
  public func overlaps(_ o: Rect) -> Bool {
    x < o.right && o.x < right && y < o.bottom && o.y < bottom
  }
  /// `x,y wxh`.
  public var description: String { "\(x),\(y) \(width)x\(height)" }
}

/// Where every part of a figure goes, computed from the panel count and the text before gnuplot
/// draws anything: the title wrapped to the figure's width in its own band, each panel's label in a
/// band above its drawing area, the colour bar in a band of its own below the grid. Nothing is left
/// to gnuplot's automatic placement, so no text lands on another.
public struct FigureLayout: Sendable, Equatable {
  /// Width of an average character of the figure font (sans 9 in cairo: 6.8 px), rounded up.
  public static let charWidth = 7.0
  /// Height of one line of text.
  public static let lineHeight = 16
  /// Height of a panel's label band.
  public static let labelBand = 18
  /// Space around the figure's parts.
  public static let padding = 8
  /// The width of a legend entry's sample line and the space around it.
  public static let legendSample = 80
  /// The widest a figure grows to fit its title on one line (longer titles wrap).
  public static let widestForTitle = 800

  /// The figure's size in pixels.
  public let width: Int, height: Int
  /// The title, wrapped into lines that fit the width.
  public let titleLines: [String]
  /// The text box of each title line (estimated from the character width).
  public let titleBoxes: [Rect]
  /// Each panel's cell (its label band and drawing area).
  public let cells: [Rect]
  /// The text box of each panel's label.
  public let labelBoxes: [Rect]
  /// Where each panel draws: the picture itself for images, the plot with its axes otherwise.
  public let areas: [Rect]
  /// The colour bar's strip and the band of its scale labels, when the figure has one.
  public let colourBar: Rect?, colourBarLabels: Rect?

  /// The layout of `figure`.
  public init(_ figure: Figure) {
    let p = Self.padding
    let labels = figure.panels.map(\.title)
    let widestLabel = labels.map { Self.textWidth($0) }.max() ?? 0
    // A legend entry (under a plot): its sample line and its name, on the panel's width.
    let widestLegend =
      figure.panels.compactMap { panel -> Int? in
        guard case .curves(let series, _, _, _, _) = panel else { return nil }
        // gnuplot sizes the key by character count (its own estimate, wider than the glyphs).
        return series.map { Int(Double($0.name.count) * 8.5) + Self.legendSample }.max()
      }.max() ?? 0
    let cellWidth = max(figure.panelWidth, widestLabel + 2 * p, widestLegend + 4 * p)
    let gridWidth = figure.columns * cellWidth
    let titleWidth = Self.textWidth(figure.title) + 2 * p
    let width = max(gridWidth, min(titleWidth, max(gridWidth, Self.widestForTitle)), 2 * p + 1)
    let lines = Self.wrap(figure.title, width: width - 2 * p)
    self.width = width
    titleLines = lines
    titleBoxes = lines.enumerated().map { i, line in
      let w = Self.textWidth(line)
      return Rect(x: (width - w) / 2, y: p + i * Self.lineHeight, width: w, height: Self.lineHeight)
    }
    let gridTop = p + titleLines.count * Self.lineHeight + p
    let gridLeft = (width - gridWidth) / 2
    let rowHeight = Self.labelBand + figure.panelHeight + p
    var cells: [Rect] = [], labelBoxes: [Rect] = [], areas: [Rect] = []
    for (i, panel) in figure.panels.enumerated() {
      let (r, c) = (i / figure.columns, i % figure.columns)
      let cell = Rect(
        x: gridLeft + c * cellWidth, y: gridTop + r * rowHeight, width: cellWidth,
        height: rowHeight)
      let labelWidth = Self.textWidth(panel.title)
      labelBoxes.append(
        Rect(
          x: cell.x + (cellWidth - labelWidth) / 2, y: cell.y + 1, width: labelWidth,
          height: Self.lineHeight))
      let room = Rect(
        x: cell.x + p / 2, y: cell.y + Self.labelBand, width: cellWidth - p,
        height: figure.panelHeight)
      areas.append(Self.fit(panel, in: room))
      cells.append(cell)
    }
    self.cells = cells
    self.labelBoxes = labelBoxes
    self.areas = areas
    var bottom = gridTop + figure.rows * rowHeight
    if figure.colourScale != nil {
      let barWidth = min(width - 2 * p, 320)
      let bar = Rect(x: (width - barWidth) / 2, y: bottom + 2, width: barWidth, height: 12)
      colourBar = bar
      colourBarLabels = Rect(
        x: p, y: bar.bottom + 2, width: width - 2 * p, height: Self.lineHeight)
      bottom = bar.bottom + 2 + Self.lineHeight + p
    } else {
      (colourBar, colourBarLabels) = (nil, nil)
    }
    height = bottom
  }

  /// The estimated width of a line of text in the figure font (sans 9 in cairo, measured per
  /// kind of character and rounded up).
  public static func textWidth(_ s: String) -> Int {
    Int(s.reduce(0.0) { $0 + charWidth($1) }.rounded(.up))
  }

  /// One character's width in pixels.
  static func charWidth(_ c: Character) -> Double {
    switch c {
    case "m", "w", "M", "W", "@": return 12
    case "%": return 11
    case "i", "l", "j", "'", "|", ".", ",", ":", ";", "!": return 3.5
    case "f", "t", "r", "(", ")", "[", "]", " ", "-": return 4.8
    case "0"..."9": return 8
    case "A"..."Z": return 8.6
    case "a"..."z", "_", "/", "=", "+", "<", ">", "?", "\"", "#", "*", "^", "~": return 7.2
    default: return 9.5
    }
  }

  /// `text` broken at spaces into lines at most `width` pixels wide (a word longer than a line is
  /// cut).
  public static func wrap(_ text: String, width: Int) -> [String] {
    let most = max(Int(Double(width) / 12), 1)  // characters of a word cut into pieces
    var lines: [String] = [], line = ""
    for word in text.split(separator: " ", omittingEmptySubsequences: true).map(String.init) {
      var word = word
      while word.count > most {
        if !line.isEmpty {
          lines.append(line)
          line = ""
        }
        lines.append(String(word.prefix(most)))
        word = String(word.dropFirst(most))
      }
      if line.isEmpty {
        line = word
      } else if textWidth(line + " " + word) <= width {
        line += " " + word
      } else {
        lines.append(line)
        line = word
      }
    }
    if !line.isEmpty || lines.isEmpty { lines.append(line) }
    return lines
  }

  /// A picture's area: as large as fits `room` at the picture's aspect ratio, centred; other
  /// panels take the whole room.
  static func fit(_ panel: Figure.Panel, in room: Rect) -> Rect {
    guard case .image(_, let w, let h, _) = panel, w > 0, h > 0 else { return room }
    let scale = min(Double(room.width) / Double(w), Double(room.height) / Double(h))
    let (fw, fh) = (Int(Double(w) * scale), Int(Double(h) * scale))
    return Rect(
      x: room.x + (room.width - fw) / 2, y: room.y + (room.height - fh) / 2, width: fw, height: fh)
  }

  /// Every text box and drawing area of the figure, named (for checks that none overlaps another).
  public var boxes: [(name: String, rect: Rect)] {
    titleBoxes.enumerated().map { ("title line \($0 + 1)", $1) }
      + labelBoxes.enumerated().map { ("label of panel \($0 + 1)", $1) }
      + areas.enumerated().map { ("panel \($0 + 1)", $1) }
      + [colourBar.map { ("colour bar", $0) }, colourBarLabels.map { ("colour bar scale", $0) }]
      .compactMap { $0 }
  }

  /// Pairs of boxes that share pixels (empty for a good layout).
  public var collisions: [String] {
    let all = boxes
    var out: [String] = []
    for i in all.indices {
      for j in all.indices where j > i && all[i].rect.overlaps(all[j].rect) {
        out.append("\(all[i].name) (\(all[i].rect)) overlaps \(all[j].name) (\(all[j].rect))")
      }
    }
    return out
  }
}

/// A tick step for an axis from `low` to `high` drawn `pixels` wide: a round number (1, 2 or 5
/// times a power of ten) that leaves room for labels of `labelChars` characters.
public func tickStep(low: Double, high: Double, pixels: Int, labelChars: Int) -> Double {
  let span = high - low
  guard span.isFinite, span > 0 else { return 1 }
  let room = Double(labelChars + 3) * FigureLayout.charWidth
  let most = max(Double(pixels) / room, 1)
  let raw = span / most
  let power = pow(10, floor(log10(raw)))
  for m in [1.0, 2, 5, 10] where m * power >= raw { return m * power }
  return 10 * power
}
