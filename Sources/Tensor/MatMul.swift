/// Matrix products on BLAS gemm: batched matmul with either operand transposed, and `linear`.
extension Tensor {
  /// op(a) @ op(b) over leading batch axes; `b` may also be a plain matrix shared by every batch
  /// item. a: (..., M, K) [(..., K, M) if transA], b: (..., K, N) [(..., N, K) if transB] -> (...,
  /// M, N).
  public static func matmul(_ a: Tensor, _ b: Tensor, transA: Bool = false, transB: Bool = false)
    throws -> Tensor
  {
    guard a.dtype == b.dtype else {
      throw TensorError.dtypeMismatch(op: "matmul", lhs: a.dtype, rhs: b.dtype)
    }
    guard a.rank >= 2, b.rank >= 2 else {
      throw TensorError.shapeMismatch(op: "matmul", lhs: a.shape, rhs: b.shape)
    }
    // A shared right matrix: fold a's batch axes into its rows (one large gemm).
    if b.rank == 2 && a.rank > 2 && !transA {
      let flat = try a.reshaped([-1, a.shape[a.rank - 1]])
      let c = try matmul(flat, b, transB: transB)
      return try c.reshaped(Array(a.shape.dropLast()) + [c.shape[1]])
    }
    let batchA = Array(a.shape.dropLast(2)), batchB = Array(b.shape.dropLast(2))
    guard batchA == batchB else {
      throw TensorError.shapeMismatch(op: "matmul", lhs: a.shape, rhs: b.shape)
    }
    let (ar, ac) = (a.shape[a.rank - 2], a.shape[a.rank - 1]),
      (br, bc) = (b.shape[b.rank - 2], b.shape[b.rank - 1])
    let (m, ka) = transA ? (ac, ar) : (ar, ac)
    let (kb, n) = transB ? (bc, br) : (br, bc)
    guard ka == kb else {
      throw TensorError.shapeMismatch(op: "matmul", lhs: a.shape, rhs: b.shape)
    }
    let batch = batchA.reduce(1, *)
    let out = Tensor(uninitialized: batchA + [m, n], dtype: a.dtype)
    let es = a.dtype.size
    for i in 0..<batch {
      a.k.gemm(
        transA: transA, transB: transB, m: m, n: n, k: ka, alpha: 1,
        a: a.raw + i * ar * ac * es, lda: ac, b: b.raw + i * br * bc * es, ldb: bc, beta: 0,
        c: out.raw + i * m * n * es, ldc: n)
    }
    return a.record(out, [a, b]) { g in
      let ga: Tensor? =
        !a.requiresGrad
        ? nil
        : transA
          ? try matmul(b, g, transA: transB, transB: true) : try matmul(g, b, transB: !transB)
      let gb: Tensor? =
        !b.requiresGrad
        ? nil
        : transB
          ? try matmul(g, a, transA: true, transB: transA) : try matmul(a, g, transA: !transA)
      return [ga, gb]
    }
  }

  /// x @ weightᵀ + bias, as torch.nn.functional.linear: x (..., in), weight (out, in), bias (out)
  /// -> (..., out).
  public func linear(_ weight: Tensor, _ bias: Tensor?) throws -> Tensor {
    guard weight.rank == 2, rank >= 1, shape[rank - 1] == weight.shape[1] else {
      throw TensorError.shapeMismatch(op: "linear", lhs: shape, rhs: weight.shape)
    }
    guard dtype == weight.dtype else {
      throw TensorError.dtypeMismatch(op: "linear", lhs: dtype, rhs: weight.dtype)
    }
    let (nIn, nOut) = (weight.shape[1], weight.shape[0])
    if let bias, bias.shape != [nOut] {
      throw TensorError.shapeMismatch(op: "linear bias", lhs: weight.shape, rhs: bias.shape)
    }
    let rows = count / max(nIn, 1)
    let outShape = Array(shape.dropLast()) + [nOut]
    let out = Tensor(uninitialized: outShape, dtype: dtype)
    let es = dtype.size
    if let bias {
      for r in 0..<rows {
        (out.raw + r * nOut * es).copyMemory(from: bias.raw, byteCount: nOut * es)
      }
    }
    k.gemm(
      transA: false, transB: true, m: rows, n: nOut, k: nIn, alpha: 1, a: raw, lda: nIn,
      b: weight.raw, ldb: nIn, beta: bias == nil ? 0 : 1, c: out.raw, ldc: nOut)
    let x = self
    var inputs = [x, weight]
    if let bias { inputs.append(bias) }
    return record(out, inputs) { g in
      var gx: Tensor? = nil, gw: Tensor? = nil, gb: Tensor? = nil
      if x.requiresGrad {
        let t = Tensor(uninitialized: x.shape, dtype: x.dtype)
        x.k.gemm(
          transA: false, transB: false, m: rows, n: nIn, k: nOut, alpha: 1, a: g.raw, lda: nOut,
          b: weight.raw, ldb: nIn, beta: 0, c: t.raw, ldc: nIn)
        gx = t
      }
      if weight.requiresGrad {
        let t = Tensor(uninitialized: weight.shape, dtype: x.dtype)
        x.k.gemm(
          transA: true, transB: false, m: nOut, n: nIn, k: rows, alpha: 1, a: g.raw, lda: nOut,
          b: x.raw, ldb: nIn, beta: 0, c: t.raw, ldc: nIn)
        gw = t
      }
      if let bias, bias.requiresGrad {
        let t = Tensor(uninitialized: [nOut], dtype: x.dtype)
        x.k.sumAxis(g.raw, t.raw, outer: 1, n: rows, inner: nOut)
        gb = t
      }
      return bias == nil ? [gx, gw] : [gx, gw, gb]
    }
  }
}
