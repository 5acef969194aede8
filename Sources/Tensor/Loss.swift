import Glibc

/// Training losses and stochastic regularizers.
extension Tensor {
  /// Mean cross-entropy of logits (B, K) against class labels, with label smoothing ε
  /// (target = (1-ε)·onehot + ε/K, as PyTorch's `label_smoothing`).
  public func crossEntropy(labels: [Int], smoothing: Double = 0) throws -> Tensor {
    guard rank == 2, labels.count == shape[0] else {
      throw TensorError.shapeMismatch(op: "crossEntropy", lhs: shape, rhs: [labels.count])
    }
    let (b, kk) = (shape[0], shape[1])
    if let bad = labels.first(where: { $0 < 0 || $0 >= kk }) {
      throw TensorError.invalidArgument(
        op: "crossEntropy", message: "label \(bad) out of range 0..<\(kk)")
    }
    let probs = [Double](unsafeUninitializedCapacity: b * kk) { buf, n in
      for r in 0..<b {
        var mx = -Double.infinity
        for j in 0..<kk { mx = max(mx, self[flat: r * kk + j]) }
        var s = 0.0
        for j in 0..<kk {
          let e = Glibc.exp(self[flat: r * kk + j] - mx)
          buf[r * kk + j] = e
          s += e
        }
        for j in 0..<kk { buf[r * kk + j] /= s }
      }
      n = b * kk
    }
    var loss = 0.0
    for r in 0..<b {
      for j in 0..<kk {
        let t = (j == labels[r] ? 1 - smoothing : 0) + smoothing / Double(kk)
        if t > 0 { loss -= t * Glibc.log(max(probs[r * kk + j], .leastNonzeroMagnitude)) }
      }
    }
    let out = Tensor.scalar(loss / Double(b), dtype: dtype)
    let logits = self
    return record(out, [logits]) { g in
      let scale = try g.item() / Double(b)
      let gx = Tensor(uninitialized: logits.shape, dtype: logits.dtype)
      for r in 0..<b {
        for j in 0..<kk {
          let t = (j == labels[r] ? 1 - smoothing : 0) + smoothing / Double(kk)
          gx[flat: r * kk + j] = (probs[r * kk + j] - t) * scale
        }
      }
      return [gx]
    }
  }

  /// Cross-entropy against soft targets (B, K) (mixup / cutmix labels), mean over the batch.
  public func softCrossEntropy(targets: Tensor) throws -> Tensor {
    guard rank == 2, targets.shape == shape else {
      throw TensorError.shapeMismatch(op: "softCrossEntropy", lhs: shape, rhs: targets.shape)
    }
    let mx = try Tensor(
      (0..<shape[0]).map { r in (0..<shape[1]).map { self[flat: r * shape[1] + $0] }.max() ?? 0 },
      shape: [shape[0], 1], dtype: dtype)
    let shifted = try self - mx
    let logZ = try shifted.exp().sum(axis: 1, keepDim: true).log()
    let logp = try shifted - logZ
    return try (logp * targets).sum(axis: 1).mean().negated()
  }

  /// Inverted dropout: zeroes elements with probability p and scales the rest by 1/(1-p).
  public func dropout(_ p: Double, rng: inout SplitMix64) throws -> Tensor {
    guard p > 0 else { return self }
    guard p < 1 else {
      throw TensorError.invalidArgument(op: "dropout", message: "p must be < 1, got \(p)")
    }
    let mask = Tensor(uninitialized: shape, dtype: dtype)
    for i in 0..<count { mask[flat: i] = rng.nextDouble() < p ? 0 : 1 / (1 - p) }
    return try self * mask
  }

  /// Drop path (stochastic depth): zeroes whole batch items (axis 0) with probability p, scaling
  /// the rest; item i's coin comes from its own generator `rows.generators[i]`.
  public func dropPath(_ p: Double, rows: inout RowGenerators) throws -> Tensor {
    guard p > 0 else { return self }
    guard p < 1 else {
      throw TensorError.invalidArgument(op: "dropPath", message: "p must be < 1, got \(p)")
    }
    guard rows.generators.count == shape[0] else {
      throw TensorError.invalidArgument(
        op: "dropPath",
        message: "\(rows.generators.count) row generators for a batch of \(shape[0]) (\(shape))")
    }
    var keepShape = [Int](repeating: 1, count: rank)
    keepShape[0] = shape[0]
    let keep = Tensor(uninitialized: keepShape, dtype: dtype)
    for i in 0..<shape[0] {
      keep[flat: i] = rows.generators[i].nextDouble() < p ? 0 : 1 / (1 - p)
    }
    return try self * keep
  }
}
