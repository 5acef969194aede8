import Foundation
import Tensor

/// Photometric variety for a clip on values 0…255, the same draw for every frame: brightness,
/// contrast and saturation (torchvision's ColorJitter blends), grey, Gaussian blur and sensor
/// noise; and VideoMAE's multi-scale crop box.
public enum PhotometricJitter {
  /// Brightness, contrast and saturation blends: v → degenerate + factor · (v − degenerate), with
  /// black, the frame's mean luma and the pixel's own luma as the degenerate images; then clamped.
  public static func colour(
    _ clip: inout PixelClip, brightness: Float, contrast: Float, saturation: Float
  ) {
    let plane = clip.height * clip.width, n = clip.frames * plane
    clip.values.withUnsafeMutableBufferPointer { v in
      for f in 0..<clip.frames {
        let (r, g, b) = (f * plane, n + f * plane, 2 * n + f * plane)
        var mean: Float = 0
        for i in 0..<plane {
          for o in [r, g, b] { v[o + i] = min(max(v[o + i] * brightness, 0), 255) }
          mean += 0.299 * v[r + i] + 0.587 * v[g + i] + 0.114 * v[b + i]
        }
        mean /= Float(plane)
        for i in 0..<plane {
          var (cr, cg, cb) = (v[r + i], v[g + i], v[b + i])
          cr = mean + contrast * (cr - mean)
          cg = mean + contrast * (cg - mean)
          cb = mean + contrast * (cb - mean)
          let luma = 0.299 * cr + 0.587 * cg + 0.114 * cb
          v[r + i] = min(max(luma + saturation * (cr - luma), 0), 255)
          v[g + i] = min(max(luma + saturation * (cg - luma), 0), 255)
          v[b + i] = min(max(luma + saturation * (cb - luma), 0), 255)
        }
      }
    }
  }

  /// Every plane blurred by a normalized Gaussian of standard deviation `sigma` pixels (radius
  /// ⌈3σ⌉, edges repeated), separably.
  public static func blur(_ clip: inout PixelClip, sigma: Double) {
    guard sigma > 0 else { return }
    let radius = max(1, Int((3 * sigma).rounded(.up)))
    var weights = (-radius...radius).map { Float(exp(-Double($0 * $0) / (2 * sigma * sigma))) }
    let total = weights.reduce(0, +)
    weights = weights.map { $0 / total }
    let (w, h) = (clip.width, clip.height)
    var row = [Float](repeating: 0, count: max(w, h))
    clip.values.withUnsafeMutableBufferPointer { v in
      for p in 0..<(3 * clip.frames) {
        let base = p * w * h
        for y in 0..<h {
          for x in 0..<w {
            var s: Float = 0
            for k in -radius...radius {
              s += weights[k + radius] * v[base + y * w + min(max(x + k, 0), w - 1)]
            }
            row[x] = s
          }
          for x in 0..<w { v[base + y * w + x] = row[x] }
        }
        for x in 0..<w {
          for y in 0..<h {
            var s: Float = 0
            for k in -radius...radius {
              s += weights[k + radius] * v[base + min(max(y + k, 0), h - 1) * w + x]
            }
            row[y] = s
          }
          for y in 0..<h { v[base + y * w + x] = row[y] }
        }
      }
    }
  }

  /// Independent Gaussian noise of standard deviation `sigma` levels on every value, clamped.
  public static func noise(_ clip: inout PixelClip, sigma: Double, rng: inout SplitMix64) {
    for i in clip.values.indices {
      clip.values[i] = min(max(clip.values[i] + Float(rng.nextNormal() * sigma), 0), 255)
    }
  }

  /// VideoMAE's `GroupMultiScaleCrop` box (scales 1, .875, .75, .66 of the short side, width and
  /// height at most one scale apart, sides within 3 px of the output taken as the output's, offset
  /// one of the 13 fixed positions on a 4 × 4 grid), drawn with this generator.
  public static func multiScaleCropBox(
    width: Int, height: Int, output: Int, rng: inout SplitMix64
  ) -> SpatialAugment.Box {
    let base = min(width, height)
    let sizes = [1, 0.875, 0.75, 0.66].map { Int(Double(base) * $0) }
      .map { abs($0 - output) < 3 ? output : $0 }
    var pairs: [(Int, Int)] = []
    for (i, ch) in sizes.enumerated() {
      for (j, cw) in sizes.enumerated() where abs(i - j) <= 1 { pairs.append((cw, ch)) }
    }
    let (cw, ch) = pairs[Int(rng.next() % UInt64(pairs.count))]
    let (ws, hs) = ((width - cw) / 4, (height - ch) / 4)
    let offsets = [
      (0, 0), (4, 0), (0, 4), (4, 4), (2, 2), (0, 2), (4, 2), (2, 4), (2, 0), (1, 1), (3, 1),
      (1, 3), (3, 3),
    ]
    let (ox, oy) = offsets[Int(rng.next() % UInt64(offsets.count))]
    return SpatialAugment.Box(
      x: min(ox * ws, width - cw), y: min(oy * hs, height - ch), width: min(cw, width),
      height: min(ch, height))
  }
}
