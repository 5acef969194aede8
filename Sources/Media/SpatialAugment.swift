import Foundation
import Tensor

/// The authors' spatial training augmentation of a clip (the same box and flip for every frame):
/// torchvision's random resized crop (area scale 0.08…1, aspect 3/4…4/3, bilinear back to the
/// output size), a horizontal flip with probability ½, and random erasing (timm's, in "pixel"
/// mode: one box, the same in every frame, filled with standard-normal noise in the normalized space).
public enum SpatialAugment {
  /// A crop box: x, y, width, height.
  public struct Box: Sendable, Equatable {
    /// Left, top, width and height in pixels.
    public let x: Int, y: Int, width: Int, height: Int
  }

  /// torchvision's `RandomResizedCrop.get_params`: up to 10 draws of area and log-aspect; then the
  /// central crop with the aspect clamped into the range.
  public static func resizedCropBox(
    width w: Int, height h: Int, scale: ClosedRange<Double> = 0.08...1,
    ratio: ClosedRange<Double> = 0.75...(4.0 / 3),
    rng: inout SplitMix64
  ) -> Box {
    let area = Double(w * h)
    let (lo, hi) = (log(ratio.lowerBound), log(ratio.upperBound))
    for _ in 0..<10 {
      let target =
        area * (scale.lowerBound + (scale.upperBound - scale.lowerBound) * rng.nextDouble())
      let aspect = exp(lo + (hi - lo) * rng.nextDouble())
      let cw = Int((target * aspect).squareRoot().rounded()),
        ch = Int((target / aspect).squareRoot().rounded())
      if cw > 0, ch > 0, cw <= w, ch <= h {
        let y = Int(rng.next() % UInt64(h - ch + 1)), x = Int(rng.next() % UInt64(w - cw + 1))
        return Box(x: x, y: y, width: cw, height: ch)
      }
    }
    let inRatio = Double(w) / Double(h)
    var (cw, ch) = (w, h)
    if inRatio < ratio.lowerBound {
      ch = Int((Double(w) / ratio.lowerBound).rounded())
    } else if inRatio > ratio.upperBound {
      cw = Int((Double(h) * ratio.upperBound).rounded())
    }
    return Box(x: (w - cw) / 2, y: (h - ch) / 2, width: cw, height: ch)
  }

  /// The box of every frame resized bilinearly (align_corners false) to `width` × `height`.
  public static func cropResize(_ clip: PixelClip, _ box: Box, width ow: Int, height oh: Int)
    -> PixelClip
  {
    var out = PixelClip(frames: clip.frames, height: oh, width: ow)
    /// Source index pairs and the weight of the second, per output coordinate.
    func taps(_ count: Int, _ side: Int, _ origin: Int) -> [(Int, Int, Float)] {
      let scale = Double(side) / Double(count)
      return (0..<count).map { o in
        let s = min(max((Double(o) + 0.5) * scale - 0.5, 0), Double(side - 1))
        let i0 = Int(s)
        return (origin + i0, origin + min(i0 + 1, side - 1), Float(s - Double(i0)))
      }
    }
    let xt = taps(ow, box.width, box.x), yt = taps(oh, box.height, box.y)
    let (w, h) = (clip.width, clip.height)
    clip.values.withUnsafeBufferPointer { src in
      out.values.withUnsafeMutableBufferPointer { dst in
        for plane in 0..<(3 * clip.frames) {
          let s = plane * h * w, d = plane * oh * ow
          for (oy, (y0, y1, fy)) in yt.enumerated() {
            let r0 = s + y0 * w, r1 = s + y1 * w, o = d + oy * ow
            for (ox, (x0, x1, fx)) in xt.enumerated() {
              let top = src[r0 + x0] + (src[r0 + x1] - src[r0 + x0]) * fx
              let bottom = src[r1 + x0] + (src[r1 + x1] - src[r1 + x0]) * fx
              dst[o + ox] = top + (bottom - top) * fy
            }
          }
        }
      }
    }
    return out
  }

  /// Every frame mirrored left-right.
  public static func flipped(_ clip: PixelClip) -> PixelClip {
    var out = clip
    let w = clip.width
    for row in 0..<(3 * clip.frames * clip.height) {
      for x in 0..<w { out.values[row * w + x] = clip.values[row * w + w - 1 - x] }
    }
    return out
  }

  /// timm's RandomErasing box (area 0.02…1/3 of the frame, log-aspect 0.3…1/0.3, up to 10 draws),
  /// or nil when no draw fits.
  public static func erasingBox(width w: Int, height h: Int, rng: inout SplitMix64) -> Box? {
    let area = Double(w * h), (lo, hi) = (log(0.3), log(1 / 0.3))
    for _ in 0..<10 {
      let target = area * (0.02 + (1.0 / 3 - 0.02) * rng.nextDouble())
      let aspect = exp(lo + (hi - lo) * rng.nextDouble())
      let eh = Int((target * aspect).squareRoot().rounded()),
        ew = Int((target / aspect).squareRoot().rounded())
      if ew < w, eh < h, ew > 0, eh > 0 {
        let y = Int(rng.next() % UInt64(h - eh + 1)), x = Int(rng.next() % UInt64(w - ew + 1))
        return Box(x: x, y: y, width: ew, height: eh)
      }
    }
    return nil
  }

  /// Erases `box` in every frame of a normalized clip (1, 3, T, H, W) with one draw of
  /// standard-normal noise per channel and pixel, the same in every frame (timm's cube erasing).
  public static func erase(_ clip: Tensor, _ box: Box, rng: inout SplitMix64) -> Tensor {
    let out = clip.copy()
    let (t, h, w) = (clip.shape[2], clip.shape[3], clip.shape[4])
    let p = out.pointer(Float.self)
    for c in 0..<3 {
      let noise = (0..<(box.width * box.height)).map { _ in Float(rng.nextNormal()) }
      for f in 0..<t {
        for y in 0..<box.height {
          for x in 0..<box.width {
            p[((c * t + f) * h + box.y + y) * w + box.x + x] = noise[y * box.width + x]
          }
        }
      }
    }
    return out
  }
}
