import Foundation
import Media
import Plot
import Script

/// The figure of `faces` results: the frame they were found in, each face's box in yellow and its
/// five landmarks in red, the largest side scaled to at most 640 pixels.
enum FacesFigure {
  /// Whether a value is one face record of `faces`.
  static func isFace(_ v: Value) -> Bool {
    if case .record(let r) = v { return r["landmarks"] != nil && r["box"] != nil }
    return false
  }

  /// The frame with every face drawn.
  static func figure(_ items: [Value], source: String, frame: Int) throws -> Figure {
    let reader = try VideoReader(path: source)
    let scale = min(1, 640 / Double(max(reader.info.width, reader.info.height, 1)))
    let (w, h) = (
      max(1, Int(Double(reader.info.width) * scale)),
      max(1, Int(Double(reader.info.height) * scale))
    )
    guard var rgb = try reader.frames([frame], width: w, height: h).first else {
      throw MediaError(source, "frame \(frame) could not be decoded")
    }
    func numbers(_ v: Value?) -> [Double] {
      guard case .list(let xs)? = v else { return [] }
      return xs.compactMap { if case .number(let x) = $0 { x } else { nil } }
    }
    func dot(_ x: Int, _ y: Int, _ c: (UInt8, UInt8, UInt8)) {
      guard x >= 0, y >= 0, x < w, y < h else { return }
      let i = (y * w + x) * 3
      (rgb[i], rgb[i + 1], rgb[i + 2]) = c
    }
    var scores: [String] = []
    for item in items {
      guard case .record(let r) = item else { continue }
      let b = numbers(r["box"]).map { $0 * scale }
      guard b.count == 4, b.allSatisfy(\.isFinite) else { continue }
      let (x0, y0) = (Int(b[0].clamped(-1, Double(w))), Int(b[1].clamped(-1, Double(h))))
      let (x1, y1) = (Int(b[2].clamped(-1, Double(w))), Int(b[3].clamped(-1, Double(h))))
      for t in 0..<2 {
        for x in min(x0, x1)...max(x0, x1) {
          dot(x, y0 + t, (255, 220, 0))
          dot(x, y1 - t, (255, 220, 0))
        }
        for y in min(y0, y1)...max(y0, y1) {
          dot(x0 + t, y, (255, 220, 0))
          dot(x1 - t, y, (255, 220, 0))
        }
      }
      if case .list(let marks)? = r["landmarks"] {
        for m in marks {
          let p = numbers(m).map { $0 * scale }
          guard p.count == 2, p.allSatisfy(\.isFinite) else { continue }
          let (px, py) = (
            Int(p[0].clamped(-3, Double(w + 3))), Int(p[1].clamped(-3, Double(h + 3)))
          )
          for dy in -2...2 { for dx in -2...2 { dot(px + dx, py + dy, (230, 30, 30)) } }
        }
      }
      if case .number(let s)? = r["score"] { scores.append(String(format: "%.3f", s)) }
    }
    let title =
      "\(MediaError.printable(source)), frame \(frame): \(items.count) face\(items.count == 1 ? "" : "s") "
      + "(MTCNN; scores \(scores.joined(separator: ", "))): boxes yellow, landmarks red"
    return Figure(
      title: title, panels: [.image(rgb: rgb, width: w, height: h, title: "frame \(frame)")],
      columns: 1, panelWidth: w, panelHeight: h)
  }
}

extension Double {
  /// The value within lo…hi.
  fileprivate func clamped(_ lo: Double, _ hi: Double) -> Double {
    Swift.min(Swift.max(self, lo), hi)
  }
}
