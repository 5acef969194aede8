/// Sums and means over axes.
extension Tensor {
  /// Normalizes a possibly negative axis, or throws naming the op.
  func axisIndex(_ axis: Int, _ op: String) throws -> Int {
    let a = axis < 0 ? axis + rank : axis
    guard a >= 0 && a < rank else {
      throw TensorError.invalidArgument(
        op: op, message: "axis \(axis) out of range for shape \(shape)")
    }
    return a
  }

  /// Sum over one axis.
  public func sum(axis: Int, keepDim: Bool = false) throws -> Tensor {
    let a = try axisIndex(axis, "sum")
    let outer = shape[..<a].reduce(1, *), n = shape[a], inner = shape[(a + 1)...].reduce(1, *)
    var kept = shape
    kept[a] = 1
    let out = Tensor(uninitialized: kept, dtype: dtype)
    k.sumAxis(raw, out.raw, outer: outer, n: n, inner: inner)
    let inShape = shape
    let result = record(out, [self]) { g in [try g.expand(to: inShape)] }
    return keepDim
      ? result : try result.reshaped(shape.enumerated().filter { $0.offset != a }.map(\.element))
  }

  /// Mean over one axis.
  public func mean(axis: Int, keepDim: Bool = false) throws -> Tensor {
    let a = try axisIndex(axis, "mean")
    return try sum(axis: a, keepDim: keepDim).affine(1 / Double(shape[a]))
  }

  /// Sum of all elements (0-d).
  public func sum() throws -> Tensor {
    try reshaped([count]).sum(axis: 0)
  }

  /// Σ x² over every element, in Double (one parallel pass, no graph; a gradient's squared norm).
  public func sumOfSquares() -> Double { k.sumOfSquares(raw, count) }

  /// Mean of all elements (0-d).
  public func mean() throws -> Tensor { try sum().affine(1 / Double(max(count, 1))) }

  /// Broadcasts to a larger shape by copying (the backward of a reduction).
  public func expand(to target: [Int]) throws -> Tensor {
    if shape == target { return self }
    guard Tensor.broadcastShape(shape, target) == target else {
      throw TensorError.shapeMismatch(op: "expand", lhs: shape, rhs: target)
    }
    let zero = Tensor.zeros([], dtype: dtype)
    let out = Tensor(uninitialized: target, dtype: dtype)
    k.binary(
      .add, raw, Tensor.broadcastStrides(shape, to: target), zero.raw,
      [Int](repeating: 0, count: target.count), out.raw, target)
    let s = shape
    return record(out, [self]) { g in [try g.sum(to: s)] }
  }
}
