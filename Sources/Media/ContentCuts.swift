import Foundation

/// Shot cuts found in every decoded frame, as PySceneDetect's adaptive detector finds them: each
/// frame's content change is the mean absolute difference of hue, saturation and value from the
/// previous frame; a cut lies where that change is at least `ratio` times the mean change of the
/// `window` frames on either side and at least `minimumChange` (on a 0…255 scale).
public enum ContentCuts {
  /// How much larger than its neighbours' a change must be.
  public static let ratio = 3.0
  /// The smallest change that can be a cut (PySceneDetect's min_content_val).
  public static let minimumChange = 15.0
  /// Neighbours on each side the change is compared with.
  public static let window = 2
  /// The side of the thumbnails compared (their long side).
  public static let thumbnailSide = 64

  /// Positions i of `frames` (RGB, width × height each) where a cut lies between frame i−1 and i.
  public static func cuts(_ frames: [[UInt8]], width: Int, height: Int) -> [Int] {
    guard frames.count > 1, width > 0, height > 0 else { return [] }
    let hsv = frames.map { self.hsv($0, pixels: width * height) }
    // change[i]: between frame i−1 and i (change[0] unused).
    var change = [Double](repeating: 0, count: frames.count)
    for i in 1..<frames.count {
      let (a, b) = (hsv[i - 1], hsv[i])
      var sum = 0.0
      for k in 0..<min(a.count, b.count) { sum += abs(Double(a[k]) - Double(b[k])) }
      change[i] = sum / Double(max(min(a.count, b.count), 1))
    }
    var out: [Int] = []
    for i in 1..<frames.count where change[i] >= minimumChange {
      let neighbours = (i - window...i + window).filter { $0 != i && $0 >= 1 && $0 < frames.count }
      let mean = neighbours.map { change[$0] }.reduce(0, +) / Double(max(neighbours.count, 1))
      // With no neighbour (a two-frame span) the change alone decides.
      if neighbours.isEmpty || change[i] >= ratio * max(mean, 1e-9) { out.append(i) }
    }
    return out
  }

  /// H, S and V of each pixel on 0…255 (OpenCV's 8-bit HSV: hue halved to 0…179).
  static func hsv(_ rgb: [UInt8], pixels: Int) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: pixels * 3)
    for p in 0..<min(pixels, rgb.count / 3) {
      let r = Double(rgb[3 * p]), g = Double(rgb[3 * p + 1]), b = Double(rgb[3 * p + 2])
      let v = max(r, g, b), m = min(r, g, b), d = v - m
      let s = v > 0 ? 255 * d / v : 0
      var h = 0.0
      if d > 0 {
        if v == r {
          h = 60 * (g - b) / d
        } else if v == g {
          h = 120 + 60 * (b - r) / d
        } else {
          h = 240 + 60 * (r - g) / d
        }
        if h < 0 { h += 360 }
      }
      out[3 * p] = UInt8(min(179, (h / 2).rounded()))
      out[3 * p + 1] = UInt8(min(255, s.rounded()))
      out[3 * p + 2] = UInt8(v)
    }
    return out
  }

  /// The thumbnail size of a frame size (long side `thumbnailSide`).
  public static func thumbnailSize(width: Int, height: Int) -> (Int, Int) {
    let scale = Double(thumbnailSide) / Double(max(width, height, 1))
    return (max(1, Int(Double(width) * scale)), max(1, Int(Double(height) * scale)))
  }
}
