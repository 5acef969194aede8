import Foundation

/// The per-frame pixel operations behind RandAugment, written after PIL's (ImageOps, ImageEnhance,
/// Image.transform) on values 0…255.
enum PixelOps {
  /// v → f(v) on every value.
  static func map(_ clip: inout PixelClip, _ f: (Float) -> Float) {
    for i in clip.values.indices { clip.values[i] = min(max(f(clip.values[i]), 0), 255) }
  }

  /// Per frame and channel: a 256-entry table from the channel's histogram, applied to it.
  static func perChannel(_ clip: inout PixelClip, _ table: ([Int]) -> [Float]?) {
    let n = clip.height * clip.width
    clip.eachFrame { v, planes in
      for start in planes {
        var histogram = [Int](repeating: 0, count: 256)
        for i in start..<(start + n) { histogram[Int(min(max(v[i].rounded(), 0), 255))] += 1 }
        guard let lut = table(histogram) else { continue }
        for i in start..<(start + n) { v[i] = lut[Int(min(max(v[i].rounded(), 0), 255))] }
      }
    }
  }

  /// ImageOps.autocontrast (cutoff 0): the lowest used level to 0, the highest to 255.
  static func autoContrastTable(_ h: [Int]) -> [Float]? {
    guard let lo = h.firstIndex(where: { $0 > 0 }), let hi = h.lastIndex(where: { $0 > 0 }), hi > lo
    else { return nil }
    let scale = 255 / Double(hi - lo), offset = -Double(lo) * scale
    return (0..<256).map { Float(min(max(Int(Double($0) * scale + offset), 0), 255)) }
  }

  /// ImageOps.equalize.
  static func equalizeTable(_ h: [Int]) -> [Float]? {
    let used = h.filter { $0 > 0 }
    guard used.count > 1, let last = used.last else { return nil }
    let step = (used.reduce(0, +) - last) / 255
    guard step > 0 else { return nil }
    var n = step / 2, lut: [Float] = []
    for i in 0..<256 {
      lut.append(Float(min(n / step, 255)))
      n += h[i]
    }
    return lut
  }

  /// ImageEnhance's blend: degenerate + factor · (image − degenerate), per frame; `degenerate`
  /// fills a frame's three planes (it starts as zeros: black).
  static func blend(
    _ clip: inout PixelClip, factor f: Float,
    with degenerate: (_ frame: [Float], _ w: Int, _ h: Int, inout [Float]) -> Void
  ) {
    let n = clip.height * clip.width, (w, h) = (clip.width, clip.height)
    clip.eachFrame { v, planes in
      let frame = planes.flatMap { Array(v[$0..<($0 + n)]) }  // (3, H, W)
      var d = [Float](repeating: 0, count: 3 * n)
      degenerate(frame, w, h, &d)
      for (c, start) in planes.enumerated() {
        for i in 0..<n {
          v[start + i] = min(max(d[c * n + i] + f * (frame[c * n + i] - d[c * n + i]), 0), 255)
        }
      }
    }
  }

  /// PIL's L conversion (ITU-R 601-2 luma, integer) repeated in the three planes.
  static func grey(_ f: [Float], _ w: Int, _ h: Int, _ out: inout [Float]) {
    let n = w * h
    for i in 0..<n {
      let l = Float(Int((f[i] * 299 + f[n + i] * 587 + f[2 * n + i] * 114) / 1000))
      (out[i], out[n + i], out[2 * n + i]) = (l, l, l)
    }
  }

  /// A constant frame at the mean grey level (rounded), as ImageEnhance.Contrast.
  static func meanGrey(_ f: [Float], _ w: Int, _ h: Int, _ out: inout [Float]) {
    grey(f, w, h, &out)
    let n = w * h
    let mean = (out[0..<n].reduce(0, +) / Float(max(n, 1)) + 0.5).rounded(.down)
    for i in out.indices { out[i] = mean }
  }

  /// ImageFilter.SMOOTH (3 × 3 kernel 1 1 1 / 1 5 1 / 1 1 1, ÷ 13) inside, the border unfiltered.
  static func smooth(_ f: [Float], _ w: Int, _ h: Int, _ out: inout [Float]) {
    let n = w * h
    out = f
    guard w > 2, h > 2 else { return }
    for c in 0..<3 {
      for y in 1..<(h - 1) {
        for x in 1..<(w - 1) {
          var s: Float = 0
          for dy in -1...1 { for dx in -1...1 { s += f[c * n + (y + dy) * w + x + dx] } }
          s += 4 * f[c * n + y * w + x]
          out[c * n + y * w + x] = (s / 13).rounded()
        }
      }
    }
  }

  /// PIL's Image.transform(AFFINE, (a, b, c, d, e, f)) with bicubic resampling and grey 128 fill:
  /// output pixel (x, y) samples the input at (a·x + b·y + c, d·x + e·y + f) (pixel centres). The
  /// 4 × 4 weights of a position are computed once for the three channels.
  static func affine(_ clip: inout PixelClip, _ m: [Double]) {
    let (w, h) = (clip.width, clip.height), n = w * h
    var source = [Float](repeating: 0, count: 3 * n)
    clip.eachFrame { v, planes in
      for (c, start) in planes.enumerated() {
        for i in 0..<n { source[c * n + i] = v[start + i] }
      }
      source.withUnsafeBufferPointer { src in
        for y in 0..<h {
          for x in 0..<w {
            let (px, py) = (Double(x) + 0.5, Double(y) + 0.5)
            let u = m[0] * px + m[1] * py + m[2], t = m[3] * px + m[4] * py + m[5]
            guard u >= 0, u < Double(w), t >= 0, t < Double(h) else {
              for start in planes { v[start + y * w + x] = 128 }
              continue
            }
            let (sx, sy) = (u - 0.5, t - 0.5)
            let (x0, y0) = (Int(sx.rounded(.down)), Int(sy.rounded(.down)))
            var wx: (Double, Double, Double, Double) = (0, 0, 0, 0), wy = wx
            wx = (
              cubic(sx - Double(x0 - 1)), cubic(sx - Double(x0)), cubic(sx - Double(x0 + 1)),
              cubic(sx - Double(x0 + 2))
            )
            wy = (
              cubic(sy - Double(y0 - 1)), cubic(sy - Double(y0)), cubic(sy - Double(y0 + 1)),
              cubic(sy - Double(y0 + 2))
            )
            let xs = (
              min(max(x0 - 1, 0), w - 1), min(max(x0, 0), w - 1), min(max(x0 + 1, 0), w - 1),
              min(max(x0 + 2, 0), w - 1)
            )
            let ys = (
              min(max(y0 - 1, 0), h - 1), min(max(y0, 0), h - 1), min(max(y0 + 1, 0), h - 1),
              min(max(y0 + 2, 0), h - 1)
            )
            for (c, start) in planes.enumerated() {
              let base = c * n
              func row(_ yy: Int) -> Double {
                let r = base + yy * w
                return wx.0 * Double(src[r + xs.0]) + wx.1 * Double(src[r + xs.1]) + wx.2
                  * Double(src[r + xs.2])
                  + wx.3 * Double(src[r + xs.3])
              }
              let sum = wy.0 * row(ys.0) + wy.1 * row(ys.1) + wy.2 * row(ys.2) + wy.3 * row(ys.3)
              v[start + y * w + x] = Float(min(max(sum, 0), 255))
            }
          }
        }
      }
    }
  }

  /// The bicubic kernel (a = −0.5).
  static func cubic(_ x: Double) -> Double {
    let a = -0.5, t = abs(x)
    if t < 1 { return ((a + 2) * t - (a + 3)) * t * t + 1 }
    if t < 2 { return (((t - 5) * t + 8) * t - 4) * a }
    return 0
  }
}
