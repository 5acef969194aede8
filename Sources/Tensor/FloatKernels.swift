/// SIMD16 kernels for Float: the hot paths of the model (GELU, LayerNorm, softmax).
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

extension Float {
  package static func unary(
    _ op: UnaryOp, _ x: UnsafeRawPointer, _ y: UnsafeMutableRawPointer, _ n: Int
  ) {
    switch op {
    case .gelu: parallelRange((n + 15) / 16, costPerItem: 64) { s, e in geluChunks(x, y, n, s, e) }
    case .exp: simdMap(x, y, n) { v in simdExp(v) }
    case .sigmoid: simdMap(x, y, n) { v in 1 / (1 + simdExp(-v)) }
    default: unaryLoop(op, x, y, n)
    }
  }

  /// GELU over 16-lane chunks s..<e (a tight loop of its own, so nothing stays outside the vector
  /// code).
  @inline(never) static func geluChunks(
    _ x: UnsafeRawPointer, _ y: UnsafeMutableRawPointer, _ n: Int, _ s: Int, _ e: Int
  ) {
    var c = s
    while c < e && c &* 16 &+ 16 <= n {
      let o = c &* 64
      let v = x.loadUnaligned(fromByteOffset: o, as: F16.self)
      y.storeBytes(of: v * simdNormalCDF(v), toByteOffset: o, as: F16.self)
      c &+= 1
    }
    if c < e { simdMap(x + c &* 64, y + c &* 64, n - c &* 16) { v in v * simdNormalCDF(v) } }
  }

  /// y = f(x) over 16-lane chunks (both threads on large inputs); the tail goes through a padded
  /// chunk.
  @inline(__always) static func simdMap(
    _ x: UnsafeRawPointer, _ y: UnsafeMutableRawPointer, _ n: Int, _ f: (F16) -> F16
  ) {
    parallelRange((n + 15) / 16, costPerItem: 64) { s, e in
      for c in s..<e {
        let i = c &* 16
        if i &+ 16 <= n {
          y.storeBytes(
            of: f(x.loadUnaligned(fromByteOffset: i &* 4, as: F16.self)), toByteOffset: i &* 4,
            as: F16.self)
        } else {
          var v = F16()
          for j in i..<n { v[j - i] = x.load(fromByteOffset: j &* 4, as: Float.self) }
          let r = f(v)
          for j in i..<n { y.storeBytes(of: r[j - i], toByteOffset: j &* 4, as: Float.self) }
        }
      }
    }
  }

  package static func unaryBackward(
    _ op: UnaryOp, _ x: UnsafeRawPointer, _ y: UnsafeRawPointer, _ gy: UnsafeRawPointer,
    _ gx: UnsafeMutableRawPointer, _ n: Int
  ) {
    guard op == .gelu else { return unaryBackwardLoop(op, x, y, gy, gx, n) }
    parallelRange((n + 15) / 16, costPerItem: 64) { s, e in geluBackwardChunks(x, gy, gx, n, s, e) }
  }

  /// GELU backward over 16-lane chunks s..<e: d/dx x·Φ(x) = Φ(x) + x·φ(x).
  @inline(never) static func geluBackwardChunks(
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
      let i = c &* 16
      unaryBackwardLoop(.gelu, x + i &* 4, x + i &* 4, gy + i &* 4, gx + i &* 4, n - i)
    }
  }

  package static func layerNormForward(
    _ x: UnsafeRawPointer, _ w: UnsafeRawPointer, _ b: UnsafeRawPointer,
    _ y: UnsafeMutableRawPointer,
    _ mean: UnsafeMutableRawPointer, _ rstd: UnsafeMutableRawPointer, rows: Int, cols: Int,
    eps: Double
  ) {
    guard cols % 16 == 0 else {
      return layerNormForwardLoop(x, w, b, y, mean, rstd, rows: rows, cols: cols, eps: eps)
    }
    let mean = mean.assumingMemoryBound(to: Float.self),
      rstd = rstd.assumingMemoryBound(to: Float.self)
    let epsF = Float(eps), n = Float(cols), chunks = cols / 16
    parallelRange(rows, costPerItem: cols) { s, e in
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
        let rs = 1 / (acc2.sum() / n + epsF).squareRoot()
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
  }

  package static func layerNormBackward(
    _ gy: UnsafeRawPointer, _ x: UnsafeRawPointer, _ w: UnsafeRawPointer, _ mean: UnsafeRawPointer,
    _ rstd: UnsafeRawPointer, _ gx: UnsafeMutableRawPointer, _ gw: UnsafeMutableRawPointer,
    _ gb: UnsafeMutableRawPointer, rows: Int, cols: Int
  ) {
    guard cols % 16 == 0 else {
      return layerNormBackwardLoop(gy, x, w, mean, rstd, gx, gw, gb, rows: rows, cols: cols)
    }
    let mean = mean.assumingMemoryBound(to: Float.self),
      rstd = rstd.assumingMemoryBound(to: Float.self)
    let n = Float(cols), chunks = cols / 16
    let threads = rows * cols >= 65_536 ? max(1, Threads.count) : 1
    // Per-thread partial sums of gw and gb, added at the end.
    let partial = UnsafeMutablePointer<Float>.allocate(capacity: threads * 2 * cols)
    partial.initialize(repeating: 0, count: threads * 2 * cols)
    defer { partial.deallocate() }
    let body = { (t: Int, s: Int, e: Int) in
      let pw = UnsafeMutableRawPointer(partial + t * 2 * cols), pb = pw + cols * 4
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
            of: pw.load(fromByteOffset: o, as: F16.self) + gv * xh, toByteOffset: o, as: F16.self)
          pb.storeBytes(
            of: pb.load(fromByteOffset: o, as: F16.self) + gv, toByteOffset: o, as: F16.self)
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
    if threads == 1 {
      body(0, 0, rows)
    } else {
      parallelRange(threads, costPerItem: 1 << 20) { s, e in
        for t in s..<e { body(t, rows * t / threads, rows * (t + 1) / threads) }
      }
    }
    let gw = gw.assumingMemoryBound(to: Float.self), gb = gb.assumingMemoryBound(to: Float.self)
    for t in 0..<threads {
      for j in 0..<cols {
        gw[j] += partial[t * 2 * cols + j]
        gb[j] += partial[t * 2 * cols + cols + j]
      }
    }
  }

  package static func softmaxForward(
    _ x: UnsafeRawPointer, _ y: UnsafeMutableRawPointer, rows: Int, cols: Int, scale: Double
  ) {
    let sc = Float(scale), chunks = cols / 16, tail = chunks * 16
    let x = x.assumingMemoryBound(to: Float.self), y = y.assumingMemoryBound(to: Float.self)
    parallelRange(rows, costPerItem: cols * 4) { s, e in
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
          let v = Float.exp(row[j] * sc - mx)
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
  }

  package static func softmaxBackward(
    _ y: UnsafeRawPointer, _ gy: UnsafeRawPointer, _ gx: UnsafeMutableRawPointer, rows: Int,
    cols: Int,
    scale: Double
  ) {
    let sc = Float(scale), chunks = cols / 16, tail = chunks * 16
    let y = y.assumingMemoryBound(to: Float.self), gy = gy.assumingMemoryBound(to: Float.self)
    let gx = gx.assumingMemoryBound(to: Float.self)
    parallelRange(rows, costPerItem: cols * 2) { s, e in
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
  }
}
