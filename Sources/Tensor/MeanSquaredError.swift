/// The mean squared error as one fused op: one pass forward (differences squared in the element
/// type, summed in Double), one pass backward — instead of a difference, a square and a mean,
/// each with its own pass over the pretraining target (B, masked tokens, 1536) and back.
extension Tensor {
  /// Mean squared error against a target of the same shape and dtype: mean((self − target)²).
  public func mse(_ target: Tensor) throws -> Tensor {
    guard shape == target.shape else {
      throw TensorError.shapeMismatch(op: "mse", lhs: shape, rhs: target.shape)
    }
    guard dtype == target.dtype else {
      throw TensorError.dtypeMismatch(op: "mse", lhs: dtype, rhs: target.dtype)
    }
    let n = count
    let total =
      dtype == .float32
      ? Self.squaredDistance(Float.self, raw, target.raw, n)
      : Self.squaredDistance(Double.self, raw, target.raw, n)
    let out = Tensor.scalar(total / Double(max(n, 1)), dtype: dtype)
    let (x, t) = (self, target)
    return record(out, [x, t]) { g in
      // d/dx = 2 (x − t) / n · g; d/dt = −d/dx.
      let scale = 2 * (try g.item()) / Double(max(n, 1))
      let gx = Tensor(uninitialized: x.shape, dtype: x.dtype)
      if x.dtype == .float32 {
        Self.scaledDifference(Float.self, x.raw, t.raw, gx.raw, n, scale)
      } else {
        Self.scaledDifference(Double.self, x.raw, t.raw, gx.raw, n, scale)
      }
      let gt = t.requiresGrad ? try gx.negated() : nil
      return [x.requiresGrad ? gx : nil, gt]
    }
  }

  /// Σ (a − b)² over n elements: squares in T, 16-element partial sums in T, the rest in Double.
  static func squaredDistance<T: Scalar>(
    _: T.Type, _ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ n: Int
  ) -> Double {
    let a = a.assumingMemoryBound(to: T.self), b = b.assumingMemoryBound(to: T.self)
    let chunks = (n + 4095) / 4096
    var partial = [Double](repeating: 0, count: chunks)
    partial.withUnsafeMutableBufferPointer { out in
      let slots = UncheckedSendable(out)  // each chunk writes its own slot
      parallelRange(chunks, costPerItem: 4096) { s, e in
        for c in s..<e {
          var total = 0.0
          var i = c &* 4096
          let end = Swift.min(i &+ 4096, n)
          while i &+ 16 <= end {
            var block = T.zero
            for j in i..<(i &+ 16) {
              let d = a[j] - b[j]
              block += d * d
            }
            total += Double(block)
            i &+= 16
          }
          while i < end {
            let d = a[i] - b[i]
            total += Double(d * d)
            i &+= 1
          }
          slots.value[c] = total
        }
      }
    }
    return partial.reduce(0, +)
  }

  /// out = scale · (a − b) over n elements.
  static func scaledDifference<T: Scalar>(
    _: T.Type, _ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ out: UnsafeMutableRawPointer,
    _ n: Int, _ scale: Double
  ) {
    let a = a.assumingMemoryBound(to: T.self), b = b.assumingMemoryBound(to: T.self)
    let o = out.assumingMemoryBound(to: T.self), k = T(scale)
    parallelRange(n, costPerItem: 2) { s, e in
      for i in s..<e { o[i] = k * (a[i] - b[i]) }
    }
  }
}
