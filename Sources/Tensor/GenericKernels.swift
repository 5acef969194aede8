import RealModule

/// Plain scalar kernels, used as they are for Double and as the fallback for Float.
extension Scalar {
  package static func unary(
    _ op: UnaryOp, _ x: UnsafeRawPointer, _ y: UnsafeMutableRawPointer, _ n: Int
  ) {
    unaryLoop(op, x, y, n)
  }

  /// The scalar loop behind `unary`.
  package static func unaryLoop(
    _ op: UnaryOp, _ x: UnsafeRawPointer, _ y: UnsafeMutableRawPointer, _ n: Int
  ) {
    let x = x.assumingMemoryBound(to: Self.self), y = y.assumingMemoryBound(to: Self.self)
    parallelRange(n, costPerItem: 8) { s, e in
      for i in s..<e { y[i] = apply(op, x[i]) }
    }
  }

  @inline(__always) package static func apply(_ op: UnaryOp, _ v: Self) -> Self {
    switch op {
    case .neg: return -v
    case .exp: return Self.exp(v)
    case .log: return Self.log(v)
    case .sigmoid: return 1 / (1 + Self.exp(-v))
    case .tanh: return Self.tanh(v)
    case .relu: return v > 0 ? v : 0
    case .gelu: return v * (1 + Self.erf(v / Self.sqrt(2))) / 2
    case .square: return v * v
    case .sqrt: return Self.sqrt(v)
    }
  }

  package static func unaryBackward(
    _ op: UnaryOp, _ x: UnsafeRawPointer, _ y: UnsafeRawPointer, _ gy: UnsafeRawPointer,
    _ gx: UnsafeMutableRawPointer, _ n: Int
  ) {
    unaryBackwardLoop(op, x, y, gy, gx, n)
  }

  /// The scalar loop behind `unaryBackward`.
  package static func unaryBackwardLoop(
    _ op: UnaryOp, _ x: UnsafeRawPointer, _ y: UnsafeRawPointer, _ gy: UnsafeRawPointer,
    _ gx: UnsafeMutableRawPointer, _ n: Int
  ) {
    let x = x.assumingMemoryBound(to: Self.self), y = y.assumingMemoryBound(to: Self.self)
    let gy = gy.assumingMemoryBound(to: Self.self), gx = gx.assumingMemoryBound(to: Self.self)
    let invSqrt2Pi = 1 / Self.sqrt(2 * Self.pi)
    parallelRange(n, costPerItem: 8) { s, e in
      for i in s..<e {
        let v = x[i], o = y[i]
        let d: Self
        switch op {
        case .neg: d = -1
        case .exp: d = o
        case .log: d = 1 / v
        case .sigmoid: d = o * (1 - o)
        case .tanh: d = 1 - o * o
        case .relu: d = v > 0 ? 1 : 0
        case .gelu: d = (1 + Self.erf(v / Self.sqrt(2))) / 2 + v * Self.exp(-v * v / 2) * invSqrt2Pi
        case .square: d = 2 * v
        case .sqrt: d = 1 / (2 * o)
        }
        gx[i] = gy[i] * d
      }
    }
  }

  package static func layerNormForward(
    _ x: UnsafeRawPointer, _ w: UnsafeRawPointer, _ b: UnsafeRawPointer,
    _ y: UnsafeMutableRawPointer,
    _ mean: UnsafeMutableRawPointer, _ rstd: UnsafeMutableRawPointer, rows: Int, cols: Int,
    eps: Double
  ) {
    layerNormForwardLoop(x, w, b, y, mean, rstd, rows: rows, cols: cols, eps: eps)
  }

  /// The scalar loop behind `layerNormForward`.
  package static func layerNormForwardLoop(
    _ x: UnsafeRawPointer, _ w: UnsafeRawPointer, _ b: UnsafeRawPointer,
    _ y: UnsafeMutableRawPointer,
    _ mean: UnsafeMutableRawPointer, _ rstd: UnsafeMutableRawPointer, rows: Int, cols: Int,
    eps: Double
  ) {
    let x = x.assumingMemoryBound(to: Self.self), w = w.assumingMemoryBound(to: Self.self)
    let b = b.assumingMemoryBound(to: Self.self), y = y.assumingMemoryBound(to: Self.self)
    let mean = mean.assumingMemoryBound(to: Self.self),
      rstd = rstd.assumingMemoryBound(to: Self.self)
    let n = Self(cols)
    parallelRange(rows, costPerItem: cols) { s, e in
      for r in s..<e {
        let row = x + r * cols, out = y + r * cols
        var m: Self = 0
        for j in 0..<cols { m += row[j] }
        m /= n
        var v: Self = 0
        for j in 0..<cols {
          let d = row[j] - m
          v += d * d
        }
        let rs = 1 / Self.sqrt(v / n + Self(eps))
        mean[r] = m
        rstd[r] = rs
        for j in 0..<cols { out[j] = (row[j] - m) * rs * w[j] + b[j] }
      }
    }
  }

  package static func layerNormBackward(
    _ gy: UnsafeRawPointer, _ x: UnsafeRawPointer, _ w: UnsafeRawPointer, _ mean: UnsafeRawPointer,
    _ rstd: UnsafeRawPointer, _ gx: UnsafeMutableRawPointer, _ gw: UnsafeMutableRawPointer,
    _ gb: UnsafeMutableRawPointer, rows: Int, cols: Int
  ) {
    layerNormBackwardLoop(gy, x, w, mean, rstd, gx, gw, gb, rows: rows, cols: cols)
  }

  /// The scalar loop behind `layerNormBackward`.
  package static func layerNormBackwardLoop(
    _ gy: UnsafeRawPointer, _ x: UnsafeRawPointer, _ w: UnsafeRawPointer, _ mean: UnsafeRawPointer,
    _ rstd: UnsafeRawPointer, _ gx: UnsafeMutableRawPointer, _ gw: UnsafeMutableRawPointer,
    _ gb: UnsafeMutableRawPointer, rows: Int, cols: Int
  ) {
    let gy = gy.assumingMemoryBound(to: Self.self), x = x.assumingMemoryBound(to: Self.self)
    let w = w.assumingMemoryBound(to: Self.self), mean = mean.assumingMemoryBound(to: Self.self)
    let rstd = rstd.assumingMemoryBound(to: Self.self), gx = gx.assumingMemoryBound(to: Self.self)
    let gw = gw.assumingMemoryBound(to: Self.self), gb = gb.assumingMemoryBound(to: Self.self)
    let n = Self(cols)
    for r in 0..<rows {
      let row = x + r * cols, g = gy + r * cols, out = gx + r * cols
      let m = mean[r], rs = rstd[r]
      var sumG: Self = 0, sumGX: Self = 0
      for j in 0..<cols {
        let xh = (row[j] - m) * rs
        let gw_ = g[j] * w[j]
        sumG += gw_
        sumGX += gw_ * xh
        gw[j] += g[j] * xh
        gb[j] += g[j]
      }
      sumG /= n
      sumGX /= n
      for j in 0..<cols {
        let xh = (row[j] - m) * rs
        out[j] = rs * (g[j] * w[j] - sumG - xh * sumGX)
      }
    }
  }

  package static func softmaxForward(
    _ x: UnsafeRawPointer, _ y: UnsafeMutableRawPointer, rows: Int, cols: Int, scale: Double
  ) {
    let x = x.assumingMemoryBound(to: Self.self), y = y.assumingMemoryBound(to: Self.self)
    let sc = Self(scale)
    parallelRange(rows, costPerItem: cols * 4) { s, e in
      for r in s..<e {
        let row = x + r * cols, out = y + r * cols
        var mx = -Self.infinity
        for j in 0..<cols { mx = Swift.max(mx, row[j] * sc) }
        var sum: Self = 0
        for j in 0..<cols {
          let v = Self.exp(row[j] * sc - mx)
          out[j] = v
          sum += v
        }
        let inv = 1 / sum
        for j in 0..<cols { out[j] *= inv }
      }
    }
  }

  package static func softmaxBackward(
    _ y: UnsafeRawPointer, _ gy: UnsafeRawPointer, _ gx: UnsafeMutableRawPointer, rows: Int,
    cols: Int,
    scale: Double
  ) {
    let y = y.assumingMemoryBound(to: Self.self), gy = gy.assumingMemoryBound(to: Self.self)
    let gx = gx.assumingMemoryBound(to: Self.self)
    let sc = Self(scale)
    parallelRange(rows, costPerItem: cols * 2) { s, e in
      for r in s..<e {
        let yr = y + r * cols, g = gy + r * cols, out = gx + r * cols
        var dot: Self = 0
        for j in 0..<cols { dot += yr[j] * g[j] }
        for j in 0..<cols { out[j] = sc * yr[j] * (g[j] - dot) }
      }
    }
  }
}

extension Scalar {
  package static func binary(
    _ op: BinaryOp, _ a: UnsafeRawPointer, _ aStrides: [Int], _ b: UnsafeRawPointer,
    _ bStrides: [Int],
    _ out: UnsafeMutableRawPointer, _ shape: [Int]
  ) {
    let a = a.assumingMemoryBound(to: Self.self), b = b.assumingMemoryBound(to: Self.self)
    let o = out.assumingMemoryBound(to: Self.self)
    let rank = shape.count
    let total = shape.reduce(1, *)
    if total == 0 { return }
    let inner = rank == 0 ? 1 : shape[rank - 1]
    let sa = rank == 0 ? 0 : aStrides[rank - 1], sb = rank == 0 ? 0 : bStrides[rank - 1]
    let outerCount = total / inner
    parallelRange(outerCount, costPerItem: inner) { s, e in
      var index = outerIndex(ofRow: s, shape)
      for row in s..<e {
        var offA = 0, offB = 0
        for d in 0..<(rank - 1) {
          offA &+= index[d] &* aStrides[d]
          offB &+= index[d] &* bStrides[d]
        }
        let pa = a + offA, pb = b + offB, po = o + row &* inner
        switch op {
        case .add: for j in 0..<inner { po[j] = pa[j &* sa] + pb[j &* sb] }
        case .sub: for j in 0..<inner { po[j] = pa[j &* sa] - pb[j &* sb] }
        case .mul: for j in 0..<inner { po[j] = pa[j &* sa] * pb[j &* sb] }
        case .div: for j in 0..<inner { po[j] = pa[j &* sa] / pb[j &* sb] }
        }
        advanceOuterIndex(&index, shape)
      }
    }
  }

  package static func sumAxis(
    _ x: UnsafeRawPointer, _ y: UnsafeMutableRawPointer, outer: Int, n: Int, inner: Int
  ) {
    let x = x.assumingMemoryBound(to: Self.self), y = y.assumingMemoryBound(to: Self.self)
    // Sums accumulate in Double: a float32 loss over millions of values summed in float32 is off
    // by ~1e-3 relative, and would differ with the batch's split over processes.
    parallelRange(outer, costPerItem: n * inner) { s, e in
      var acc = [Double](repeating: 0, count: inner)
      acc.withUnsafeMutableBufferPointer { acc in
        for o in s..<e where inner == 1 {
          // A full sum: four running sums break the add chain (then added in a fixed order).
          let src = x + o * n
          var (a0, a1, a2, a3) = (0.0, 0.0, 0.0, 0.0)
          var j = 0
          while j + 4 <= n {
            a0 += Double(src[j])
            a1 += Double(src[j + 1])
            a2 += Double(src[j + 2])
            a3 += Double(src[j + 3])
            j += 4
          }
          while j < n {
            a0 += Double(src[j])
            j += 1
          }
          y[o] = Self((a0 + a1) + (a2 + a3))
        }
        for o in s..<e where inner > 1 {
          for i in 0..<inner { acc[i] = 0 }
          for j in 0..<n {
            let src = x + (o * n + j) * inner
            for i in 0..<inner { acc[i] += Double(src[i]) }
          }
          let out = y + o * inner
          for i in 0..<inner { out[i] = Self(acc[i]) }
        }
      }
    }
  }

  package static func affine(
    _ x: UnsafeRawPointer, _ y: UnsafeMutableRawPointer, _ n: Int, a: Double, b: Double
  ) {
    let x = x.assumingMemoryBound(to: Self.self), y = y.assumingMemoryBound(to: Self.self)
    let a = Self(a), b = Self(b)
    parallelRange(n) { s, e in for i in s..<e { y[i] = a * x[i] + b } }
  }

  package static func load(_ p: UnsafeRawPointer, _ i: Int) -> Double {
    Double(p.assumingMemoryBound(to: Self.self)[i])
  }

  package static func store(_ p: UnsafeMutableRawPointer, _ i: Int, _ v: Double) {
    p.assumingMemoryBound(to: Self.self)[i] = Self(v)
  }

  package static func countNonFinite(_ p: UnsafeRawPointer, _ n: Int) -> Int {
    let p = p.assumingMemoryBound(to: Self.self)
    var c = 0
    for i in 0..<n where !p[i].isFinite { c += 1 }
    return c
  }

  package static func squaredDistance(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ n: Int)
    -> Double
  {
    let a = a.assumingMemoryBound(to: Self.self), b = b.assumingMemoryBound(to: Self.self)
    return chunkedSum(n) { j in
      let d = a[j] - b[j]
      return d * d
    }
  }

  package static func sumOfSquares(_ a: UnsafeRawPointer, _ n: Int) -> Double {
    let a = a.assumingMemoryBound(to: Self.self)
    return chunkedSum(n) { j in a[j] * a[j] }
  }

  /// Σ term(j) over 0..<n: chunks of 4096 in parallel, terms in Self, 16-element partial sums in
  /// Self, the rest in Double, chunk totals added in a fixed order.
  @inline(__always) static func chunkedSum(_ n: Int, _ term: (Int) -> Self) -> Double {
    chunkTotals(n) { start, end in
      var total = 0.0
      var i = start
      while i &+ 16 <= end {
        var block = Self.zero
        for j in i..<(i &+ 16) { block += term(j) }
        total += Double(block)
        i &+= 16
      }
      while i < end {
        total += Double(term(i))
        i &+= 1
      }
      return total
    }
  }
}

/// The sum over 0..<n of `total(start, end)` for chunks of 4096 computed in parallel and added in a
/// fixed order (so the result does not depend on the thread count).
@inline(__always) func chunkTotals(_ n: Int, _ total: (Int, Int) -> Double) -> Double {
  let chunks = (n + 4095) / 4096
  var partial = [Double](repeating: 0, count: chunks)
  partial.withUnsafeMutableBufferPointer { out in
    let slots = UncheckedSendable(out)  // each chunk writes its own slot
    parallelRange(chunks, costPerItem: 4096) { s, e in
      for c in s..<e { slots.value[c] = total(c &* 4096, Swift.min(c &* 4096 &+ 4096, n)) }
    }
  }
  return partial.reduce(0, +)
}

extension Scalar {
  package static func scaledDifference(
    _ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ out: UnsafeMutableRawPointer, _ n: Int,
    scale: Double
  ) {
    let a = a.assumingMemoryBound(to: Self.self), b = b.assumingMemoryBound(to: Self.self)
    let o = out.assumingMemoryBound(to: Self.self), k = Self(scale)
    parallelRange(n, costPerItem: 2) { s, e in
      for i in s..<e { o[i] = k * (a[i] - b[i]) }
    }
  }
}
