import Foundation
import Tensor

/// Camera motion drawn into a clip: each frame resampled through its own affine map, so a still
/// becomes a moving shot and a clip gains a slow pan, turn and zoom.
public enum ClipMotion {
  /// Where output pixel (x, y) of a frame samples its source: (a·x + b·y + c, d·x + e·y + f), in
  /// pixel centres.
  public struct Affine: Sendable, Equatable {
    /// The map's coefficients.
    public var a, b, c, d, e, f: Double

    /// The map that shows the frame turned by `angle` radians, zoomed in by `zoom` (> 1 shows
    /// less) and moved by (`dx`, `dy`) × the frame's size, about the frame's centre.
    public init(width: Int, height: Int, angle: Double, zoom: Double, dx: Double, dy: Double) {
      let (cx, cy) = (Double(width - 1) / 2, Double(height - 1) / 2)
      let (cs, sn) = (cos(angle) / zoom, sin(angle) / zoom)
      // source = R(−angle)/zoom · (out − centre) + centre − shift
      (a, b, d, e) = (cs, sn, -sn, cs)
      c = cx - cs * cx - sn * cy - dx * Double(width)
      f = cy + sn * cx - cs * cy - dy * Double(height)
    }
  }

  /// How far a path may wander: the largest turn (radians), zoom change and shift (fractions of the
  /// side), and the zoom it starts from.
  public struct Range: Sendable, Equatable {
    /// Largest turn, zoom change, shift, and the base zoom.
    public var angle, zoom, shift, baseZoom: Double

    /// A range of these limits.
    public init(angle: Double, zoom: Double, shift: Double, baseZoom: Double = 1) {
      (self.angle, self.zoom, self.shift, self.baseZoom) = (angle, zoom, shift, baseZoom)
    }
  }

  /// A smooth random camera path over `frames` frames: turn, zoom and shift move from one random
  /// pose to another along a smoothstep curve, with a small per-frame tremor.
  public static func path(
    frames: Int, width: Int, height: Int, range: Range, rng: inout SplitMix64
  ) -> [Affine] {
    func draw(_ limit: Double) -> Double { (rng.nextDouble() * 2 - 1) * limit }
    let start = (draw(range.angle), draw(range.zoom), draw(range.shift), draw(range.shift))
    let end = (draw(range.angle), draw(range.zoom), draw(range.shift), draw(range.shift))
    return (0..<frames).map { t in
      let u = frames > 1 ? Double(t) / Double(frames - 1) : 0
      let s = u * u * (3 - 2 * u)
      func at(_ p: Double, _ q: Double) -> Double { p + (q - p) * s }
      let tremor = 0.05
      return Affine(
        width: width, height: height,
        angle: at(start.0, end.0) + draw(range.angle * tremor),
        zoom: range.baseZoom * (1 + at(start.1, end.1)),
        dx: at(start.2, end.2) + draw(range.shift * tremor),
        dy: at(start.3, end.3) + draw(range.shift * tremor))
    }
  }

  /// Frame f of `clip` resampled bilinearly through `maps[f]`; positions outside the frame take
  /// its nearest edge. `maps` holds one map per output frame; frame f reads source frame
  /// min(f, frames − 1), so a one-frame clip becomes a moving shot.
  public static func warp(_ clip: PixelClip, _ maps: [Affine]) -> PixelClip {
    let (w, h) = (clip.width, clip.height)
    var out = PixelClip(frames: maps.count, height: h, width: w)
    clip.values.withUnsafeBufferPointer { src in
      out.values.withUnsafeMutableBufferPointer { dst in
        for (f, m) in maps.enumerated() {
          let from = min(f, clip.frames - 1)
          for y in 0..<h {
            for x in 0..<w {
              let sx = min(max(m.a * Double(x) + m.b * Double(y) + m.c, 0), Double(w - 1))
              let sy = min(max(m.d * Double(x) + m.e * Double(y) + m.f, 0), Double(h - 1))
              let x0 = Int(sx), y0 = Int(sy)
              let x1 = min(x0 + 1, w - 1), y1 = min(y0 + 1, h - 1)
              let fx = Float(sx - Double(x0)), fy = Float(sy - Double(y0))
              for ch in 0..<3 {
                let plane = (ch * clip.frames + from) * h * w
                let r0 = plane + y0 * w, r1 = plane + y1 * w
                let top = src[r0 + x0] + (src[r0 + x1] - src[r0 + x0]) * fx
                let bottom = src[r1 + x0] + (src[r1 + x1] - src[r1 + x0]) * fx
                dst[((ch * maps.count + f) * h + y) * w + x] = top + (bottom - top) * fy
              }
            }
          }
        }
      }
    }
    return out
  }
}
