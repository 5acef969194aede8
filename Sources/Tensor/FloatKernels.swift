/// Float's hot kernels (GELU, exp, sigmoid, LayerNorm, softmax, the MSE's passes): the thread split
/// here, the arithmetic in the kernel build of the active level (`FloatKernelTable`,
/// Sources/KernelsX86V3/FloatKernels.swift).
extension Float {
  package static func unary(
    _ op: UnaryOp, _ x: UnsafeRawPointer, _ y: UnsafeMutableRawPointer, _ n: Int
  ) {
    let t = FloatKernelTable.active
    let f: (@Sendable (UnsafeRawPointer, UnsafeMutableRawPointer, Int, Int, Int) -> Void)?
    switch op {
    case .gelu: f = t.gelu
    case .exp: f = t.exp
    case .sigmoid: f = t.sigmoid
    default: f = nil
    }
    guard let f else { return unaryLoop(op, x, y, n) }
    parallelRange((n + 15) / 16, costPerItem: 64) { s, e in f(x, y, n, s, e) }
  }

  package static func unaryBackward(
    _ op: UnaryOp, _ x: UnsafeRawPointer, _ y: UnsafeRawPointer, _ gy: UnsafeRawPointer,
    _ gx: UnsafeMutableRawPointer, _ n: Int
  ) {
    guard op == .gelu else { return unaryBackwardLoop(op, x, y, gy, gx, n) }
    let f = FloatKernelTable.active.geluBackward
    parallelRange((n + 15) / 16, costPerItem: 64) { s, e in f(x, gy, gx, n, s, e) }
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
    let f = FloatKernelTable.active.layerNormForward, epsF = Float(eps)
    parallelRange(rows, costPerItem: cols) { s, e in f(x, w, b, y, mean, rstd, cols, epsF, s, e) }
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
    let f = FloatKernelTable.active.layerNormBackward
    let threads = rows * cols >= 65_536 ? max(1, Threads.count) : 1
    // Per-thread partial sums of gw and gb, added at the end.
    let partial = UnsafeMutablePointer<Float>.allocate(capacity: threads * 2 * cols)
    partial.initialize(repeating: 0, count: threads * 2 * cols)
    defer { partial.deallocate() }
    let body = { (t: Int, s: Int, e: Int) in
      let pw = UnsafeMutableRawPointer(partial + t * 2 * cols), pb = pw + cols * 4
      f(gy, x, w, mean, rstd, gx, pw, pb, cols, s, e)
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
    let x = x.assumingMemoryBound(to: Float.self), y = y.assumingMemoryBound(to: Float.self)
    let f = FloatKernelTable.active.softmaxForward, sc = Float(scale)
    parallelRange(rows, costPerItem: cols * 4) { s, e in f(x, y, cols, sc, s, e) }
  }

  package static func softmaxBackward(
    _ y: UnsafeRawPointer, _ gy: UnsafeRawPointer, _ gx: UnsafeMutableRawPointer, rows: Int,
    cols: Int,
    scale: Double
  ) {
    let y = y.assumingMemoryBound(to: Float.self), gy = gy.assumingMemoryBound(to: Float.self)
    let gx = gx.assumingMemoryBound(to: Float.self)
    let f = FloatKernelTable.active.softmaxBackward, sc = Float(scale)
    parallelRange(rows, costPerItem: cols * 2) { s, e in f(y, gy, gx, cols, sc, s, e) }
  }

  package static func squaredDistance(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ n: Int)
    -> Double
  {
    let a = a.assumingMemoryBound(to: Float.self), b = b.assumingMemoryBound(to: Float.self)
    let f = FloatKernelTable.active.squaredDistance
    return chunkTotals(n) { s, e in f(a, b, s, e) }
  }

  package static func scaledDifference(
    _ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ out: UnsafeMutableRawPointer, _ n: Int,
    scale: Double
  ) {
    let a = a.assumingMemoryBound(to: Float.self), b = b.assumingMemoryBound(to: Float.self)
    let o = out.assumingMemoryBound(to: Float.self), k = Float(scale)
    let f = FloatKernelTable.active.scaledDifference
    parallelRange(n, costPerItem: 2) { s, e in f(a, b, o, k, s, e) }
  }
}
