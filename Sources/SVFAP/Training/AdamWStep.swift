/// The element-wise arithmetic of one AdamW update, in Double, for one parameter: 8 lanes at a
/// time for Float parameters (the same IEEE operations per element as the scalar loop, so the
/// result is bit-for-bit the same), the scalar loop for the rest and for Double parameters.
struct AdamWStep {
  /// β1, β2, ε.
  let b1: Double, b2: Double, eps: Double
  /// Bias corrections 1 − β1^t and 1 − β2^t.
  let c1: Double, c2: Double
  /// Weight multiplier (1 − lr · weight decay, or 1) and learning rate.
  let decay: Double, rate: Double

  /// Updates `n` weights, their moments and nothing else from their gradients.
  func apply<T: BinaryFloatingPoint>(
    _ w: UnsafeMutablePointer<T>, _ g: UnsafePointer<T>, _ m: UnsafeMutablePointer<Double>,
    _ v: UnsafeMutablePointer<Double>, from start: Int, to n: Int
  ) {
    for i in start..<n {
      let gi = Double(g[i])
      m[i] = b1 * m[i] + (1 - b1) * gi
      v[i] = b2 * v[i] + (1 - b2) * gi * gi
      let update = (m[i] / c1) / ((v[i] / c2).squareRoot() + eps)
      w[i] = T(Double(w[i]) * decay - rate * update)
    }
  }

  /// Float weights (the same loop, written for Float so that it compiles to vector code).
  func apply(
    _ w: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ m: UnsafeMutablePointer<Double>,
    _ v: UnsafeMutablePointer<Double>, count n: Int
  ) {
    let (b1, b2, c1, c2, eps, decay, rate) = (b1, b2, c1, c2, eps, decay, rate)
    for i in 0..<n {
      let gi = Double(g[i])
      let mi = b1 * m[i] + (1 - b1) * gi
      let vi = b2 * v[i] + (1 - b2) * gi * gi
      m[i] = mi
      v[i] = vi
      w[i] = Float(Double(w[i]) * decay - rate * ((mi / c1) / ((vi / c2).squareRoot() + eps)))
    }
  }
}
