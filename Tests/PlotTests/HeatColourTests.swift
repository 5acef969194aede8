import Testing

@testable import Plot

/// Heat maps people can read: viridis (its lightness rises steadily, so equal steps in value look
/// like equal steps), a colour bar, and the query's cell outlined.
@Suite struct HeatColourTests {
  func lightness(_ c: (UInt8, UInt8, UInt8)) -> Double {
    0.2126 * Double(c.0) + 0.7152 * Double(c.1) + 0.0722 * Double(c.2)
  }

  @Test func viridisLightnessRisesSteadily() {
    let steps = (0...20).map { lightness(heatColor(Double($0) / 20)) }
    for (a, b) in zip(steps, steps.dropFirst()) { #expect(b > a, "lightness falls: \(steps)") }
    let (dark, bright) = (heatColor(0), heatColor(1))
    #expect(dark.2 > dark.1 && dark.0 > dark.1, "viridis starts dark purple: \(dark)")
    #expect(bright.0 > 200 && bright.1 > 200 && bright.2 < 80, "viridis ends yellow: \(bright)")
    #expect(heatColor(.nan) == heatColor(0) && heatColor(7) == heatColor(1))
  }

  @Test func colourBarRunsLowToHigh() {
    let bar = colourBar(width: 50, height: 4)
    #expect(bar.count == 50 * 4 * 3)
    let first = (bar[0], bar[1], bar[2]), last = (bar[49 * 3], bar[49 * 3 + 1], bar[49 * 3 + 2])
    #expect(first == heatColor(0) && last == heatColor(1))
  }

  @Test func theMarkedCellIsOutlinedAndNothingElse() {
    let gray = [UInt8](repeating: 100, count: 40 * 40 * 3)
    let heat = [Double](repeating: 0.5, count: 16)
    let plain = overlay(rgb: gray, width: 40, height: 40, heat: heat, gridW: 4, gridH: 4)
    let marked = overlay(
      rgb: gray, width: 40, height: 40, heat: heat, gridW: 4, gridH: 4, marked: 5)
    func white(_ img: [UInt8], _ x: Int, _ y: Int) -> Bool {
      let p = (y * 40 + x) * 3
      return img[p] == 255 && img[p + 1] == 255 && img[p + 2] == 255
    }
    // Cell 5 is row 1, column 1: pixels 10...19 both ways; its border is white, its inside not.
    #expect(white(marked, 10, 10) && white(marked, 19, 15) && white(marked, 15, 19))
    #expect(!white(marked, 15, 15) && !white(plain, 10, 10) && !white(marked, 5, 5))
  }
}
