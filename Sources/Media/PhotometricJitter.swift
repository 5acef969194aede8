import Foundation
import Tensor

/// Photometric variety for a clip on values 0…255 beyond RandAugment's blends (brightness,
/// contrast and colour are `AugmentOp`s): Gaussian blur and sensor noise; and VideoMAE's
/// multi-scale crop box.
public enum PhotometricJitter {
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
