/// The mean squared error as one fused op: one pass forward (`squaredDistance`: differences squared
/// in the element type, summed in Double) and one backward (`scaledDifference`), instead of a
/// difference, a square and a mean, each with its own pass over the pretraining target
/// (B, masked tokens, 1536) and back.
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
    let total = k.squaredDistance(raw, target.raw, n)
    let out = Tensor.scalar(total / Double(max(n, 1)), dtype: dtype)
    let (x, t) = (self, target)
    return record(out, [x, t]) { g in
      // d/dx = 2 (x − t) / n · g; d/dt = −d/dx.
      let scale = 2 * (try g.item()) / Double(max(n, 1))
      let gx = Tensor(uninitialized: x.shape, dtype: x.dtype)
      x.k.scaledDifference(x.raw, t.raw, gx.raw, n, scale: scale)
      let gt = t.requiresGrad ? try gx.negated() : nil
      return [x.requiresGrad ? gx : nil, gt]
    }
  }
}
