/// Fused LayerNorm and softmax, forward and backward.
extension Tensor {
  /// LayerNorm over the last axis: (x - mean) / sqrt(var + eps) * weight + bias (biased variance).
  public func layerNorm(_ weight: Tensor, _ bias: Tensor, eps: Double) throws -> Tensor {
    let cols = shape.last ?? 0
    guard weight.shape == [cols], bias.shape == [cols] else {
      throw TensorError.shapeMismatch(op: "layerNorm", lhs: shape, rhs: weight.shape)
    }
    guard dtype == weight.dtype else {
      throw TensorError.dtypeMismatch(op: "layerNorm", lhs: dtype, rhs: weight.dtype)
    }
    let rows = count / max(cols, 1)
    let out = Tensor(uninitialized: shape, dtype: dtype)
    let mean = Tensor(uninitialized: [rows], dtype: dtype),
      rstd = Tensor(uninitialized: [rows], dtype: dtype)
    k.layerNormForward(
      raw, weight.raw, bias.raw, out.raw, mean.raw, rstd.raw, rows: rows, cols: cols, eps: eps)
    let x = self
    return record(out, [x, weight, bias]) { g in
      let gx = Tensor(uninitialized: x.shape, dtype: x.dtype)
      let gw = Tensor.zeros([cols], dtype: x.dtype), gb = Tensor.zeros([cols], dtype: x.dtype)
      x.k.layerNormBackward(
        g.raw, x.raw, weight.raw, mean.raw, rstd.raw, gx.raw, gw.raw, gb.raw, rows: rows, cols: cols
      )
      return [gx, gw, gb]
    }
  }

  /// softmax(scale * x) over the last axis.
  public func softmax(scale: Double = 1) -> Tensor {
    let cols = shape.last ?? 1
    let rows = count / max(cols, 1)
    let out = Tensor(uninitialized: shape, dtype: dtype)
    k.softmaxForward(raw, out.raw, rows: rows, cols: cols, scale: scale)
    return record(out, [self]) { g in
      let gx = Tensor(uninitialized: out.shape, dtype: out.dtype)
      out.k.softmaxBackward(out.raw, g.raw, gx.raw, rows: rows, cols: cols, scale: scale)
      return [gx]
    }
  }

  /// Scaled dot-product attention per head: softmax(scale · q kᵀ) v. q: (B, H, Nq, d), k: (B, H,
  /// Nk, d), v: (B, H, Nk, d) -> (B, H, Nq, d). The composed reference for the fused
  /// `multiHeadAttention` (which the model uses and which also returns the probabilities).
  public static func attention(_ q: Tensor, _ k: Tensor, _ v: Tensor, scale: Double) throws
    -> Tensor
  {
    let scores = try matmul(q, k, transB: true)  // (B, H, Nq, Nk)
    return try matmul(scores.softmax(scale: scale), v)
  }
}
