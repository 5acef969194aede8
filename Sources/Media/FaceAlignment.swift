import Foundation
import Tensor

/// Aligned face crops: each frame warped by the similarity transform (rotation, scale, shift) that
/// maps its five landmarks onto a canonical template — ArcFace's 112 × 112 points (eyes, nose,
/// mouth corners) shrunk by `margin` about the centre, so the crop keeps some context — with the
/// transform's parameters averaged over ±2 frames so the crop does not shake.
public enum FaceAlignment {
  /// The template in a 112 × 112 crop: left eye, right eye, nose, left and right mouth corner.
  public static let template: [[Double]] = [
    [38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655],
    [70.7299, 92.2041],
  ]
  /// How much smaller than the crop the template's face is drawn.
  public static let margin = 1.25

  /// A similarity transform q = [a −b; b a] p + t.
  public struct Similarity: Sendable, Equatable {
    /// Scale·cos, scale·sin and the shift.
    public var a, b, tx, ty: Double

    /// The transform of these parameters.
    public init(a: Double, b: Double, tx: Double, ty: Double) {
      (self.a, self.b, self.tx, self.ty) = (a, b, tx, ty)
    }

    /// The point a source point maps to.
    public func apply(_ p: [Double]) -> [Double] {
      [a * p[0] - b * p[1] + tx, b * p[0] + a * p[1] + ty]
    }

    /// The source point of a destination point (nil when the transform is degenerate).
    public func inverse(_ q: [Double]) -> [Double]? {
      let d = a * a + b * b
      guard d > 1e-12 else { return nil }
      let (x, y) = (q[0] - tx, q[1] - ty)
      return [(a * x + b * y) / d, (-b * x + a * y) / d]
    }
  }

  /// The least-squares similarity from `source` points to `target` points (Umeyama's closed
  /// form in 2-D); nil for fewer than two distinct points.
  public static func similarity(from source: [[Double]], to target: [[Double]]) -> Similarity? {
    let n = Double(min(source.count, target.count))
    guard n >= 2 else { return nil }
    let pairs = zip(source, target).map { ($0, $1) }
    let ps = pairs.reduce([0.0, 0.0]) { [$0[0] + $1.0[0] / n, $0[1] + $1.0[1] / n] }
    let qs = pairs.reduce([0.0, 0.0]) { [$0[0] + $1.1[0] / n, $0[1] + $1.1[1] / n] }
    var norm = 0.0, dot = 0.0, cross = 0.0
    for (p, q) in pairs {
      let (px, py, qx, qy) = (p[0] - ps[0], p[1] - ps[1], q[0] - qs[0], q[1] - qs[1])
      norm += px * px + py * py
      dot += px * qx + py * qy
      cross += px * qy - py * qx
    }
    guard norm > 1e-9 else { return nil }
    let (a, b) = (dot / norm, cross / norm)
    return Similarity(
      a: a, b: b, tx: qs[0] - (a * ps[0] - b * ps[1]), ty: qs[1] - (b * ps[0] + a * ps[1]))
  }

  /// The template in a size × size crop.
  public static func target(size: Int) -> [[Double]] {
    let s = Double(size) / 112 / margin
    return template.map {
      [($0[0] - 56) * s + Double(size) / 2, ($0[1] - 56) * s + Double(size) / 2]
    }
  }

  /// Each frame's transform averaged with its neighbours' (±`radius`).
  public static func smoothed(_ transforms: [Similarity], radius: Int = 2) -> [Similarity] {
    transforms.indices.map { i in
      let window = transforms[max(0, i - radius)...min(transforms.count - 1, i + radius)]
      let n = Double(window.count)
      return Similarity(
        a: window.map(\.a).reduce(0, +) / n, b: window.map(\.b).reduce(0, +) / n,
        tx: window.map(\.tx).reduce(0, +) / n, ty: window.map(\.ty).reduce(0, +) / n)
    }
  }

  /// Frames (RGB, width × height) aligned into (1, 3, T, size, size): each warped by the similarity
  /// that puts its five landmarks (in its pixels) on the template, smoothed over time; nil when a
  /// frame has no landmarks or degenerate ones.
  static func aligned(
    _ frames: [[UInt8]], width: Int, height: Int, landmarks: [[[Double]]?], size: Int
  ) -> Tensor? {
    let target = target(size: size)
    var transforms: [Similarity] = []
    for marks in landmarks {
      guard let marks, let t = similarity(from: marks, to: target) else { return nil }
      transforms.append(t)
    }
    return warp(
      frames, width: width, height: height, transforms: smoothed(transforms), size: size)
  }

  /// The frames (RGB, width × height) warped into (1, 3, T, size, size), ImageNet-normalized;
  /// pixels from outside the frame take its nearest edge.
  static func warp(
    _ frames: [[UInt8]], width: Int, height: Int, transforms: [Similarity], size: Int
  ) -> Tensor {
    let t = frames.count
    let out = Tensor.zeros([1, 3, t, size, size])
    let p = out.pointer(Float.self)
    for (f, rgb) in frames.enumerated() where f < transforms.count {
      for y in 0..<size {
        for x in 0..<size {
          guard let s = transforms[f].inverse([Double(x) + 0.5, Double(y) + 0.5]) else { continue }
          let sx = min(max(s[0] - 0.5, 0), Double(width - 1))
          let sy = min(max(s[1] - 0.5, 0), Double(height - 1))
          let x0 = Int(sx), y0 = Int(sy), x1 = min(x0 + 1, width - 1), y1 = min(y0 + 1, height - 1)
          let fx = Float(sx - Double(x0)), fy = Float(sy - Double(y0))
          for c in 0..<3 {
            let a = Float(rgb[(y0 * width + x0) * 3 + c]), b = Float(rgb[(y0 * width + x1) * 3 + c])
            let cc = Float(rgb[(y1 * width + x0) * 3 + c]),
              d = Float(rgb[(y1 * width + x1) * 3 + c])
            let v = (a * (1 - fx) + b * fx) * (1 - fy) + (cc * (1 - fx) + d * fx) * fy
            p[((c * t + f) * size + y) * size + x] =
              (v / 255 - imageNetMean[c]) / imageNetStd[c]
          }
        }
      }
    }
    return out
  }
}
