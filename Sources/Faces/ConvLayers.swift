import Foundation
import Tensor

/// A batch of planar float images, (N, C, H, W) in row-major order: what the MTCNN networks take
/// and give.
public struct Planes: Sendable {
  /// Batch, channels, height, width.
  public let n: Int, c: Int, h: Int, w: Int
  /// The values, (N, C, H, W).
  public var data: [Float]

  /// Planes of a shape, zero or given.
  public init(n: Int, c: Int, h: Int, w: Int, data: [Float]? = nil) {
    (self.n, self.c, self.h, self.w) = (n, c, h, w)
    self.data = data ?? [Float](repeating: 0, count: n * c * h * w)
  }
}

/// The inference layers of the MTCNN networks on the engine's GEMM: 2-D convolution (stride 1, no
/// padding) as im2col × weights, PReLU, max pooling with PyTorch's ceil mode, dense layers and a
/// softmax over channels.
enum ConvLayers {
  /// Convolution with `weight` (O, C, k, k) and `bias` (O): (N, C, H, W) → (N, O, H−k+1, W−k+1).
  static func conv2d(_ x: Planes, weight: [Float], bias: [Float], out o: Int, kernel k: Int)
    -> Planes
  {
    let (ho, wo) = (x.h - k + 1, x.w - k + 1)
    guard ho > 0, wo > 0 else { return Planes(n: x.n, c: o, h: 0, w: 0) }
    var y = Planes(n: x.n, c: o, h: ho, w: wo)
    let rows = x.c * k * k, cols = ho * wo
    var im2col = [Float](repeating: 0, count: rows * cols)  // (C·k·k, Ho·Wo)
    for b in 0..<x.n {
      x.data.withUnsafeBufferPointer { src in
        im2col.withUnsafeMutableBufferPointer { dst in
          let base = b * x.c * x.h * x.w
          for ch in 0..<x.c {
            for dy in 0..<k {
              for dx in 0..<k {
                let r = (ch * k + dy) * k + dx
                for i in 0..<ho {
                  let s = base + (ch * x.h + i + dy) * x.w + dx, d = r * cols + i * wo
                  for j in 0..<wo { dst[d + j] = src[s + j] }
                }
              }
            }
          }
        }
      }
      let outBase = b * o * cols
      for oc in 0..<o {  // the bias first, then out += W · im2col
        let v = bias[oc]
        for j in 0..<cols { y.data[outBase + oc * cols + j] = v }
      }
      gemm(weight, im2col, &y.data, at: outBase, m: o, n: cols, k: rows, transB: false)
    }
    return y
  }

  /// PReLU with one slope per channel, in place.
  static func prelu(_ x: inout Planes, slopes: [Float]) {
    let plane = x.h * x.w
    for b in 0..<x.n {
      for ch in 0..<x.c {
        let a = slopes[ch], start = (b * x.c + ch) * plane
        for i in start..<(start + plane) where x.data[i] < 0 { x.data[i] *= a }
      }
    }
  }

  /// PReLU of a (N, F) matrix with one slope per feature, in place.
  static func prelu(_ x: inout [Float], features f: Int, slopes: [Float]) {
    for i in x.indices where x[i] < 0 { x[i] *= slopes[i % f] }
  }

  /// Max pooling with a k × k window and stride s in PyTorch's ceil mode (a last window that
  /// starts inside the input is kept, clipped at its border).
  static func maxPool(_ x: Planes, kernel k: Int, stride s: Int) -> Planes {
    func size(_ n: Int) -> Int {
      guard n >= k else { return n > 0 ? 1 : 0 }
      var out = (n - k + s - 1) / s + 1
      if (out - 1) * s >= n { out -= 1 }
      return out
    }
    let (ho, wo) = (size(x.h), size(x.w))
    var y = Planes(n: x.n, c: x.c, h: ho, w: wo)
    for p in 0..<(x.n * x.c) {
      let src = p * x.h * x.w, dst = p * ho * wo
      for i in 0..<ho {
        for j in 0..<wo {
          var m = -Float.infinity
          for dy in 0..<k where i * s + dy < x.h {
            for dx in 0..<k where j * s + dx < x.w {
              m = max(m, x.data[src + (i * s + dy) * x.w + j * s + dx])
            }
          }
          y.data[dst + i * wo + j] = m
        }
      }
    }
    return y
  }

  /// The features of each image flattened as PyTorch's `permute(0, 3, 2, 1)` then `view` does:
  /// (N, C, H, W) → (N, W·H·C), index ((w·H + h)·C + c).
  static func flattenWHC(_ x: Planes) -> [Float] {
    var out = [Float](repeating: 0, count: x.n * x.c * x.h * x.w)
    var o = 0
    for b in 0..<x.n {
      for j in 0..<x.w {
        for i in 0..<x.h {
          for ch in 0..<x.c {
            out[o] = x.data[((b * x.c + ch) * x.h + i) * x.w + j]
            o += 1
          }
        }
      }
    }
    return out
  }

  /// y = x Wᵀ + b for x (N, in), W (out, in), b (out).
  static func dense(
    _ x: [Float], rows n: Int, weight: [Float], bias: [Float], in fi: Int, out fo: Int
  )
    -> [Float]
  {
    var y = [Float](repeating: 0, count: n * fo)
    for r in 0..<n { for j in 0..<fo { y[r * fo + j] = bias[j] } }
    gemm(x, weight, &y, at: 0, m: n, n: fo, k: fi, transB: true)
    return y
  }

  /// c[at...] += a (m × k) · b (k × n, or n × k transposed), through the engine's sgemm; nothing
  /// when a dimension is empty.
  static func gemm(
    _ a: [Float], _ b: [Float], _ c: inout [Float], at offset: Int, m: Int, n: Int, k: Int,
    transB: Bool
  ) {
    guard m > 0, n > 0, k > 0, a.count >= m * k, b.count >= n * k, c.count >= offset + m * n
    else { return }
    a.withUnsafeBufferPointer { ap in
      b.withUnsafeBufferPointer { bp in
        c.withUnsafeMutableBufferPointer { cp in
          guard let pa = ap.baseAddress, let pb = bp.baseAddress, let pc = cp.baseAddress else {
            return
          }
          Float.gemm(
            transA: false, transB: transB, m: m, n: n, k: k, alpha: 1, a: UnsafeRawPointer(pa),
            lda: k, b: UnsafeRawPointer(pb), ldb: transB ? k : n, beta: 1,
            c: UnsafeMutableRawPointer(pc + offset), ldc: n)
        }
      }
    }
  }

  /// Softmax over the channels of (N, C, H, W), in place.
  static func softmaxChannels(_ x: inout Planes) {
    let plane = x.h * x.w
    for b in 0..<x.n {
      for i in 0..<plane {
        var m = -Float.infinity
        for ch in 0..<x.c { m = max(m, x.data[(b * x.c + ch) * plane + i]) }
        var sum: Float = 0
        for ch in 0..<x.c {
          let k = (b * x.c + ch) * plane + i
          x.data[k] = (x.data[k] - m).exp
          sum += x.data[k]
        }
        for ch in 0..<x.c { x.data[(b * x.c + ch) * plane + i] /= sum }
      }
    }
  }

  /// Softmax over the features of each row of (N, F), in place.
  static func softmaxRows(_ x: inout [Float], features f: Int) {
    for r in 0..<(x.count / max(f, 1)) {
      let row = r * f..<(r + 1) * f
      let m = x[row].max() ?? 0
      var sum: Float = 0
      for i in row {
        x[i] = (x[i] - m).exp
        sum += x[i]
      }
      for i in row { x[i] /= sum }
    }
  }
}

extension Float {
  /// eˣ.
  fileprivate var exp: Float { Float(Foundation.exp(Double(self))) }
}
