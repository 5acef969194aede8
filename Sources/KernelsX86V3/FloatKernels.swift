// The engine's own Float kernels (GELU, exp, sigmoid, LayerNorm, softmax, the MSE's passes, AdamW),
// serial over a range that the caller's thread split gives. This one source file is compiled twice:
// as KernelsX86V3 for x86-64-v3 (AVX2 + FMA) and, through a symbolic link, as KernelsX86V4 for
// x86-64-v4 (AVX-512), where SIMD16<Float> is one zmm register; Tensor picks one module at start
// (`KernelLevel`). Nothing here is @inlinable: its code must stay compiled for its own level.
import Glibc

typealias F16 = SIMD16<Float>

/// exp(x) for 16 lanes: 2^n * e^r with |r| <= ln2/2 and a degree-6 polynomial (relative error <
/// 2e-7).
@inline(__always) func simdExp(_ x0: F16) -> F16 {
  let x = x0.replacing(with: 88, where: x0 .> 88)
  return simdExpNonPositive(x)
}

/// exp(x) for x <= 88 (no upper clamp); inputs below -87 give exp(-87).
@inline(__always) func simdExpNonPositive(_ x0: F16) -> F16 {
  let x = x0.replacing(with: -87, where: x0 .< -87)
  // 1.5 * 2^23: adding it rounds to an integer kept in the low bits
  let shifter = F16(repeating: 12_582_912)
  let t = shifter.addingProduct(x, 1.442_695_04)
  let n = t - shifter
  let r = (x - n * 0.693_359_375).addingProduct(n, 2.121_944_4e-4)
  var p = F16(repeating: 1.0 / 720)
  p = F16(repeating: 1.0 / 120).addingProduct(p, r)
  p = F16(repeating: 1.0 / 24).addingProduct(p, r)
  p = F16(repeating: 1.0 / 6).addingProduct(p, r)
  p = F16(repeating: 0.5).addingProduct(p, r)
  p = F16(repeating: 1).addingProduct(p, r)
  p = F16(repeating: 1).addingProduct(p, r)
  let ni = unsafeBitCast(t, to: SIMD16<Int32>.self) &- 0x4B40_0000
  return p * unsafeBitCast((ni &+ 127) &<< 23, to: F16.self)
}

/// The standard normal CDF Φ(x) for 16 lanes, from erfc by Abramowitz & Stegun 7.1.26 (absolute
/// error < 1e-7): with z = |x|/√2, q = ½·erfc(z) = ½·t·P(t)·e^(−z²), t = 1/(1 + 0.3275911 z); Φ = q
/// for x < 0 and 1 − q otherwise (no cancellation for negative x).
@inline(__always) func simdNormalCDF(_ x: F16) -> F16 {
  let ax = unsafeBitCast(unsafeBitCast(x, to: SIMD16<UInt32>.self) & 0x7FFF_FFFF, to: F16.self)
  let z = ax * 0.707_106_77
  let t = 1 / F16(repeating: 1).addingProduct(z, 0.327_591_1)
  var p = F16(repeating: 1.061_405_429)
  p = F16(repeating: -1.453_152_027).addingProduct(p, t)
  p = F16(repeating: 1.421_413_741).addingProduct(p, t)
  p = F16(repeating: -0.284_496_736).addingProduct(p, t)
  p = F16(repeating: 0.254_829_592).addingProduct(p, t)
  let q = 0.5 * p * t * simdExpNonPositive(-z * z)
  return (1 - q).replacing(with: q, where: x .< 0)
}

/// GELU, x·Φ(x), over 16-lane chunks s..<e of n elements (x, y: n Floats): a tight loop of its
/// own (through the shared closure-taking map it measured 1.5–2x slower), the partial last chunk
/// padded.
public func geluChunks(
  _ x: UnsafeRawPointer, _ y: UnsafeMutableRawPointer, _ n: Int, _ s: Int, _ e: Int
) {
  var c = s
  while c < e && c &* 16 &+ 16 <= n {
    let o = c &* 64
    let v = x.loadUnaligned(fromByteOffset: o, as: F16.self)
    y.storeBytes(of: v * simdNormalCDF(v), toByteOffset: o, as: F16.self)
    c &+= 1
  }
  if c < e { mapChunks(x, y, n, c, e) { v in v * simdNormalCDF(v) } }
}

/// eˣ over 16-lane chunks s..<e of n elements.
public func expChunks(
  _ x: UnsafeRawPointer, _ y: UnsafeMutableRawPointer, _ n: Int, _ s: Int, _ e: Int
) {
  mapChunks(x, y, n, s, e) { v in simdExp(v) }
}

/// 1 / (1 + e⁻ˣ) over 16-lane chunks s..<e of n elements.
public func sigmoidChunks(
  _ x: UnsafeRawPointer, _ y: UnsafeMutableRawPointer, _ n: Int, _ s: Int, _ e: Int
) {
  mapChunks(x, y, n, s, e) { v in 1 / (1 + simdExp(-v)) }
}

/// y = f(x) over 16-lane chunks s..<e of n elements; the last, partial chunk goes through a padded
/// vector.
@inline(__always) func mapChunks(
  _ x: UnsafeRawPointer, _ y: UnsafeMutableRawPointer, _ n: Int, _ s: Int, _ e: Int,
  _ f: (F16) -> F16
) {
  var c = s
  while c < e && c &* 16 &+ 16 <= n {
    let o = c &* 64
    y.storeBytes(
      of: f(x.loadUnaligned(fromByteOffset: o, as: F16.self)), toByteOffset: o, as: F16.self)
    c &+= 1
  }
  if c < e {
    let i = c &* 16
    var v = F16()
    for j in i..<n { v[j &- i] = x.load(fromByteOffset: j &* 4, as: Float.self) }
    let r = f(v)
    for j in i..<n { y.storeBytes(of: r[j &- i], toByteOffset: j &* 4, as: Float.self) }
  }
}

/// GELU backward over 16-lane chunks s..<e of n elements: gx = gy · (Φ(x) + x·φ(x)); the partial
/// last chunk element by element with libm's erf and exp.
public func geluBackwardChunks(
  _ x: UnsafeRawPointer, _ gy: UnsafeRawPointer, _ gx: UnsafeMutableRawPointer, _ n: Int,
  _ s: Int, _ e: Int
) {
  var c = s
  while c < e && c &* 16 &+ 16 <= n {
    let o = c &* 64
    let v = x.loadUnaligned(fromByteOffset: o, as: F16.self)
    let g = gy.loadUnaligned(fromByteOffset: o, as: F16.self)
    let pdf = simdExpNonPositive(-0.5 * v * v) * 0.398_942_28
    gx.storeBytes(of: g * simdNormalCDF(v).addingProduct(v, pdf), toByteOffset: o, as: F16.self)
    c &+= 1
  }
  if c < e {
    let invSqrt2Pi = 1 / (2 * Float.pi).squareRoot(), sqrt2 = Float(2).squareRoot()
    for i in (c &* 16)..<n {
      let v = x.load(fromByteOffset: i &* 4, as: Float.self)
      let d = (1 + erff(v / sqrt2)) / 2 + v * expf(-v * v / 2) * invSqrt2Pi
      gx.storeBytes(
        of: gy.load(fromByteOffset: i &* 4, as: Float.self) * d, toByteOffset: i &* 4,
        as: Float.self)
    }
  }
}

/// LayerNorm forward of rows s..<e, `cols` a multiple of 16: y = (x − mean)·rstd·w + b; saves mean
/// and rstd per row.
public func layerNormForwardRows(
  _ x: UnsafeRawPointer, _ w: UnsafeRawPointer, _ b: UnsafeRawPointer, _ y: UnsafeMutableRawPointer,
  _ mean: UnsafeMutablePointer<Float>, _ rstd: UnsafeMutablePointer<Float>, cols: Int, eps: Float,
  _ s: Int, _ e: Int
) {
  let n = Float(cols), chunks = cols / 16
  for r in s..<e {
    let row = x + r &* cols &* 4, out = y + r &* cols &* 4
    var acc = F16()
    for c in 0..<chunks { acc += row.loadUnaligned(fromByteOffset: c &* 64, as: F16.self) }
    let m = acc.sum() / n
    var acc2 = F16()
    for c in 0..<chunks {
      let d = row.loadUnaligned(fromByteOffset: c &* 64, as: F16.self) - m
      acc2 += d * d
    }
    let rs = 1 / (acc2.sum() / n + eps).squareRoot()
    mean[r] = m
    rstd[r] = rs
    for c in 0..<chunks {
      let o = c &* 64
      let d = (row.loadUnaligned(fromByteOffset: o, as: F16.self) - m) * rs
      let v =
        d * w.loadUnaligned(fromByteOffset: o, as: F16.self)
        + b.loadUnaligned(fromByteOffset: o, as: F16.self)
      out.storeBytes(of: v, toByteOffset: o, as: F16.self)
    }
  }
}

/// LayerNorm backward of rows s..<e, `cols` a multiple of 16: writes gx and adds this range's
/// weight and bias gradients into `pw` and `pb` (cols each).
public func layerNormBackwardRows(
  _ gy: UnsafeRawPointer, _ x: UnsafeRawPointer, _ w: UnsafeRawPointer,
  _ mean: UnsafePointer<Float>, _ rstd: UnsafePointer<Float>, _ gx: UnsafeMutableRawPointer,
  _ pw: UnsafeMutableRawPointer, _ pb: UnsafeMutableRawPointer, cols: Int, _ s: Int, _ e: Int
) {
  let n = Float(cols), chunks = cols / 16
  for r in s..<e {
    let row = x + r &* cols &* 4, g = gy + r &* cols &* 4, out = gx + r &* cols &* 4
    let m = mean[r], rs = rstd[r]
    var sg = F16(), sgx = F16()
    for c in 0..<chunks {
      let o = c &* 64
      let xh = (row.loadUnaligned(fromByteOffset: o, as: F16.self) - m) * rs
      let gv = g.loadUnaligned(fromByteOffset: o, as: F16.self)
      let gw_ = gv * w.loadUnaligned(fromByteOffset: o, as: F16.self)
      sg += gw_
      sgx += gw_ * xh
      pw.storeBytes(
        of: pw.loadUnaligned(fromByteOffset: o, as: F16.self) + gv * xh, toByteOffset: o,
        as: F16.self)
      pb.storeBytes(
        of: pb.loadUnaligned(fromByteOffset: o, as: F16.self) + gv, toByteOffset: o, as: F16.self)
    }
    let mg = sg.sum() / n, mgx = sgx.sum() / n
    for c in 0..<chunks {
      let o = c &* 64
      let xh = (row.loadUnaligned(fromByteOffset: o, as: F16.self) - m) * rs
      let gw_ =
        g.loadUnaligned(fromByteOffset: o, as: F16.self)
        * w.loadUnaligned(fromByteOffset: o, as: F16.self)
      out.storeBytes(of: rs * (gw_ - mg - xh * mgx), toByteOffset: o, as: F16.self)
    }
  }
}

/// softmax(scale · x) of rows s..<e of `cols` (x may equal y).
public func softmaxForwardRows(
  _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, cols: Int, scale sc: Float,
  _ s: Int, _ e: Int
) {
  let chunks = cols / 16, tail = chunks * 16
  for r in s..<e {
    let row = x + r &* cols, out = y + r &* cols
    var mv = F16(repeating: -.infinity)
    for c in 0..<chunks {
      let v = UnsafeRawPointer(row + c &* 16).loadUnaligned(as: F16.self)
      mv = mv.replacing(with: v, where: v .> mv)
    }
    var mx = mv.max()
    for j in tail..<cols { mx = Swift.max(mx, row[j]) }
    mx *= sc
    if sc < 0 {
      mx = row[0] * sc
      for j in 0..<cols { mx = Swift.max(mx, row[j] * sc) }
    }
    var sv = F16()
    for c in 0..<chunks {
      let v = simdExp(UnsafeRawPointer(row + c &* 16).loadUnaligned(as: F16.self) * sc - mx)
      UnsafeMutableRawPointer(out + c &* 16).storeBytes(of: v, as: F16.self)
      sv += v
    }
    var sum = sv.sum()
    for j in tail..<cols {
      let v = expf(row[j] * sc - mx)
      out[j] = v
      sum += v
    }
    let inv = 1 / sum
    for c in 0..<chunks {
      let p = UnsafeMutableRawPointer(out + c &* 16)
      p.storeBytes(of: p.loadUnaligned(as: F16.self) * inv, as: F16.self)
    }
    for j in tail..<cols { out[j] *= inv }
  }
}

/// gx = scale · y · (gy − Σ gy·y) of rows s..<e of `cols` (gy may equal gx).
public func softmaxBackwardRows(
  _ y: UnsafePointer<Float>, _ gy: UnsafePointer<Float>, _ gx: UnsafeMutablePointer<Float>,
  cols: Int, scale sc: Float, _ s: Int, _ e: Int
) {
  let chunks = cols / 16, tail = chunks * 16
  for r in s..<e {
    let yr = y + r &* cols, g = gy + r &* cols, out = gx + r &* cols
    var dv = F16()
    for c in 0..<chunks {
      dv +=
        UnsafeRawPointer(yr + c &* 16).loadUnaligned(as: F16.self)
        * UnsafeRawPointer(g + c &* 16).loadUnaligned(as: F16.self)
    }
    var dot = dv.sum()
    for j in tail..<cols { dot += yr[j] * g[j] }
    for c in 0..<chunks {
      let yv = UnsafeRawPointer(yr + c &* 16).loadUnaligned(as: F16.self)
      let gv = UnsafeRawPointer(g + c &* 16).loadUnaligned(as: F16.self)
      UnsafeMutableRawPointer(out + c &* 16).storeBytes(of: sc * yv * (gv - dot), as: F16.self)
    }
    for j in tail..<cols { out[j] = sc * yr[j] * (g[j] - dot) }
  }
}

/// Σ (a[i] − b[i])² over i in s..<e: terms in Float, 16-term blocks summed in order in Float, the
/// blocks and the rest in Double (the MSE's forward over one chunk).
public func squaredDistance(
  _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ s: Int, _ e: Int
)
  -> Double
{
  var total = 0.0
  var i = s
  while i &+ 16 <= e {
    var block: Float = 0
    for j in i..<(i &+ 16) {
      let d = a[j] - b[j]
      block += d * d
    }
    total += Double(block)
    i &+= 16
  }
  while i < e {
    let d = a[i] - b[i]
    total += Double(d * d)
    i &+= 1
  }
  return total
}

/// out[i] = k · (a[i] − b[i]) for i in s..<e (the MSE's backward).
public func scaledDifference(
  _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
  _ k: Float, _ s: Int, _ e: Int
) {
  for i in s..<e { out[i] = k * (a[i] - b[i]) }
}

/// One AdamW step's constants: β1, β2, the bias corrections 1 − β1ᵗ and 1 − β2ᵗ, ε, the weight's
/// factor before the update (1 − lr·wd, or 1) and the learning rate (a tuple: the same type in
/// both builds of this file).
public typealias AdamWConstants = (
  beta1: Double, beta2: Double, correction1: Double, correction2: Double, eps: Double,
  decay: Double, rate: Double
)

/// AdamW over n Float weights with Double moments, all arithmetic in Double (memory-bound: 36 bytes
/// per parameter; explicit 8-lane vectors measured no faster than this loop).
public func adamW(
  _ w: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ m: UnsafeMutablePointer<Double>,
  _ v: UnsafeMutablePointer<Double>, _ n: Int, _ k: AdamWConstants
) {
  adamWLoop(w, g, m, v, n, k)
}

/// AdamW over n Double weights with Double moments.
public func adamW(
  _ w: UnsafeMutablePointer<Double>, _ g: UnsafePointer<Double>, _ m: UnsafeMutablePointer<Double>,
  _ v: UnsafeMutablePointer<Double>, _ n: Int, _ k: AdamWConstants
) {
  adamWLoop(w, g, m, v, n, k)
}

@inline(__always) func adamWLoop<T: BinaryFloatingPoint>(
  _ w: UnsafeMutablePointer<T>, _ g: UnsafePointer<T>, _ m: UnsafeMutablePointer<Double>,
  _ v: UnsafeMutablePointer<Double>, _ n: Int, _ k: AdamWConstants
) {
  let (b1, b2, c1, c2, eps, decay, rate) = k
  for i in 0..<n {
    let gi = Double(g[i])
    m[i] = b1 * m[i] + (1 - b1) * gi
    v[i] = b2 * v[i] + (1 - b2) * gi * gi
    let update = (m[i] / c1) / ((v[i] / c2).squareRoot() + eps)
    w[i] = T(Double(w[i]) * decay - rate * update)
  }
}
