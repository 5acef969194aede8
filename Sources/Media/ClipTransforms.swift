import Foundation
import Tensor

/// Augmentations on normalized clips (1 or B, 3, T, H, W), as the authors' training pipelines use:
/// random and multi-scale crops resized back to the clip size, horizontal flips.
public enum ClipTransforms {
  /// Crops (x, y, side) from every frame and resizes it bilinearly to `size` × `size`.
  public static func cropResize(_ clip: Tensor, x: Int, y: Int, side: Int, size: Int) throws
    -> Tensor
  {
    guard clip.rank == 5, clip.dtype == .float32 else {
      throw MediaError("clip", "expected a float32 clip (B, 3, T, H, W), got \(clip.shape)")
    }
    let (b, c, t, h, w) = (
      clip.shape[0], clip.shape[1], clip.shape[2], clip.shape[3], clip.shape[4]
    )
    guard side >= 1, x >= 0, y >= 0, x + side <= w, y + side <= h else {
      throw MediaError("clip", "crop (\(x), \(y), \(side)) does not fit frames of \(w)x\(h)")
    }
    let out = Tensor.zeros([b, c, t, size, size])
    let src = clip.pointer(Float.self), dst = out.pointer(Float.self)
    let step = Double(side) / Double(size)
    for plane in 0..<(b * c * t) {
      let sp = src + plane * h * w, dp = dst + plane * size * size
      for oy in 0..<size {
        let sy = min(max(Double(y) + (Double(oy) + 0.5) * step - 0.5, 0), Double(h - 1))
        let y0 = Int(sy), y1 = min(y0 + 1, h - 1), fy = Float(sy - Double(y0))
        for ox in 0..<size {
          let sx = min(max(Double(x) + (Double(ox) + 0.5) * step - 0.5, 0), Double(w - 1))
          let x0 = Int(sx), x1 = min(x0 + 1, w - 1), fx = Float(sx - Double(x0))
          let top = sp[y0 * w + x0] * (1 - fx) + sp[y0 * w + x1] * fx,
            bottom = sp[y1 * w + x0] * (1 - fx) + sp[y1 * w + x1] * fx
          dp[oy * size + ox] = top * (1 - fy) + bottom * fy
        }
      }
    }
    return out
  }

  /// A random square crop of `side` pixels, resized to the clip's size.
  public static func randomCrop(_ clip: Tensor, side: Int, rng: inout SplitMix64) throws -> Tensor {
    let (h, w) = (clip.shape[3], clip.shape[4])
    let s = min(side, h, w)
    let x = Int(rng.next() % UInt64(w - s + 1)), y = Int(rng.next() % UInt64(h - s + 1))
    return try cropResize(clip, x: x, y: y, side: s, size: w)
  }

  /// The multi-scale crop of TSN/VideoMAE: a side of scale × the short side (scales 1, .875, .75,
  /// .66), at one of five places (corners or centre), resized to the clip's size.
  public static func multiScaleCrop(
    _ clip: Tensor, scales: [Double] = [1, 0.875, 0.75, 0.66], rng: inout SplitMix64
  ) throws -> Tensor {
    let (h, w) = (clip.shape[3], clip.shape[4])
    let s = max(1, Int(Double(min(h, w)) * scales[Int(rng.next() % UInt64(scales.count))]))
    let places = [(0, 0), (w - s, 0), (0, h - s), (w - s, h - s), ((w - s) / 2, (h - s) / 2)]
    let (x, y) = places[Int(rng.next() % 5)]
    return try cropResize(clip, x: x, y: y, side: s, size: w)
  }

  /// Mirrors every frame left-right.
  public static func horizontalFlip(_ clip: Tensor) -> Tensor {
    let out = clip.copy()
    let (w, rows) = (clip.shape[clip.rank - 1], clip.count / clip.shape[clip.rank - 1])
    let p = out.pointer(Float.self)
    for r in 0..<rows {
      let row = p + r * w
      for i in 0..<(w / 2) { row.swapAt(i, w - 1 - i) }
    }
    return out
  }

  /// The "upper-central" crop used for VoxCeleb2: from frames resized to 224 on the short side, the
  /// `size` square centred horizontally and aligned to the top (where the face is in talking-head
  /// video).
  public static func upperCentral(_ clip224: Tensor, size: Int = 160) throws -> Tensor {
    let w = clip224.shape[4]
    return try cropResize(clip224, x: (w - size) / 2, y: 0, side: size, size: size)
  }
}

extension UnsafeMutablePointer where Pointee == Float {
  func swapAt(_ i: Int, _ j: Int) {
    let t = self[i]
    self[i] = self[j]
    self[j] = t
  }
}
