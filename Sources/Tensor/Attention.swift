/// Fused multi-head scaled dot-product attention that reads each head's q, k and v straight out of
/// the projection outputs through BLAS leading dimensions (no head split/merge copies) and keeps
/// the probabilities for the backward pass and for attention maps.
extension Tensor {
  /// One operand of `multiHeadAttention`: a (B, N, W) tensor whose head h occupies columns
  /// `offset + h·d ..< offset + (h+1)·d`.
  public struct HeadSource {
    /// The projection output (B, N, W).
    public let tensor: Tensor
    /// Column of head 0.
    public let offset: Int
    /// A source starting at column `offset`.
    public init(_ tensor: Tensor, offset: Int = 0) {
      self.tensor = tensor
      self.offset = offset
    }
  }

  /// softmax(scale · q kᵀ) v per head: q (B, Nq, ·), k and v (B, Nk, ·) -> (B, Nq, heads·d), heads
  /// concatenated head-major. Returns the output and the probabilities (B, heads, Nq, Nk).
  public static func multiHeadAttention(
    q: HeadSource, k: HeadSource, v: HeadSource, heads: Int, headDim d: Int, scale: Double
  ) throws -> (output: Tensor, probabilities: Tensor) {
    let (qt, kt, vt) = (q.tensor, k.tensor, v.tensor)
    guard qt.rank == 3, kt.rank == 3, vt.rank == 3, qt.shape[0] == kt.shape[0],
      kt.shape[0] == vt.shape[0],
      kt.shape[1] == vt.shape[1], q.offset + heads * d <= qt.shape[2],
      k.offset + heads * d <= kt.shape[2],
      v.offset + heads * d <= vt.shape[2]
    else {
      throw TensorError.shapeMismatch(op: "attention", lhs: qt.shape, rhs: kt.shape)
    }
    guard qt.dtype == kt.dtype, kt.dtype == vt.dtype else {
      throw TensorError.dtypeMismatch(op: "attention", lhs: qt.dtype, rhs: kt.dtype)
    }
    let (b, nq, nk, c) = (qt.shape[0], qt.shape[1], kt.shape[1], heads * d)
    let (wq, wk, wv) = (qt.shape[2], kt.shape[2], vt.shape[2])
    let es = qt.dtype.size, kern = qt.k
    let out = Tensor(uninitialized: [b, nq, c], dtype: qt.dtype)  // (B, Nq, heads·d)
    let probs = Tensor(uninitialized: [b, heads, nq, nk], dtype: qt.dtype)  // (B, heads, Nq, Nk)
    // Timed as one piece of work: the products and softmax inside are not counted again. The
    // (clip, head) pairs are spread over the threads, each product on one thread.
    let s = kern.s
    Profile.measure(.attention) {
      parallelUnits(b * heads) { u, _ in
        GemmLog.attention {
          let (bi, h) = u.quotientAndRemainder(dividingBy: heads)
          let p = probs.raw + (u * nq * nk) * es
          s.gemm(
            transA: false, transB: true, m: nq, n: nk, k: d, alpha: 1,
            a: qt.raw + (bi * nq * wq + q.offset + h * d) * es, lda: wq,
            b: kt.raw + (bi * nk * wk + k.offset + h * d) * es, ldb: wk, beta: 0, c: p, ldc: nk)
          s.softmaxForward(p, p, rows: nq, cols: nk, scale: scale)
          s.gemm(
            transA: false, transB: false, m: nq, n: d, k: nk, alpha: 1, a: p, lda: nk,
            b: vt.raw + (bi * nk * wv + v.offset + h * d) * es, ldb: wv, beta: 0,
            c: out.raw + (bi * nq * c + h * d) * es, ldc: c)
        }
      }
    }
    // Distinct sources get one gradient each (q, k and v often share the packed qkv output).
    var sources: [Tensor] = []
    for t in [qt, kt, vt] where !sources.contains(where: { $0 === t }) { sources.append(t) }
    qt.record(out, sources) { g in
      let grads = sources.map { Tensor.zeros($0.shape, dtype: $0.dtype) }
      func grad(of t: Tensor) -> Tensor { grads[sources.firstIndex { $0 === t } ?? 0] }
      let (gq, gk, gv) = (grad(of: qt), grad(of: kt), grad(of: vt))
      // dP, then dS: one (rows, Nk) scratch per thread, `rows` query rows at a time. Pairs write
      // disjoint columns of the gradients (their own clip's rows, their own head's columns).
      let threads = Threads.count  // read once: the scratch count and the shares must agree
      let rows = backwardRowBlock(queries: nq, headDim: d)
      let scratch = (0..<max(1, min(threads, b * heads))).map { _ in
        Tensor(uninitialized: [rows, nk], dtype: qt.dtype)
      }
      Profile.measure(.attention) {
        parallelUnits(b * heads, threads: threads) { u, share in
          GemmLog.attention {
            let (bi, h) = u.quotientAndRemainder(dividingBy: heads)
            let ds = scratch[share].raw  // (rows, Nk)
            let (vh, kh) = (
              vt.raw + (bi * nk * wv + v.offset + h * d) * es,
              kt.raw + (bi * nk * wk + k.offset + h * d) * es
            )  // (Nk, d) each, rows wv and wk apart
            for r0 in stride(from: 0, to: nq, by: rows) {
              let r = min(rows, nq - r0)
              let p = probs.raw + (u * nq * nk + r0 * nk) * es  // (r, Nk)
              let go = g.raw + (bi * nq * c + r0 * c + h * d) * es  // (r, d), rows c apart
              let (qh, gqh) = (
                qt.raw + (bi * nq * wq + r0 * wq + q.offset + h * d) * es,
                gq.raw + (bi * nq * wq + r0 * wq + q.offset + h * d) * es
              )  // (r, d), rows wq apart
              // dV += Pᵀ dO
              s.gemm(
                transA: true, transB: false, m: nk, n: d, k: r, alpha: 1, a: p, lda: nk, b: go,
                ldb: c, beta: 1, c: gv.raw + (bi * nk * wv + v.offset + h * d) * es, ldc: wv)
              // dP = dO Vᵀ; dS = scale · P ∘ (dP − rowsum(dP ∘ P))
              s.gemm(
                transA: false, transB: true, m: r, n: nk, k: d, alpha: 1, a: go, lda: c, b: vh,
                ldb: wv, beta: 0, c: ds, ldc: nk)
              s.softmaxBackward(p, ds, ds, rows: r, cols: nk, scale: scale)
              // dQ += dS K; dK += dSᵀ Q
              s.gemm(
                transA: false, transB: false, m: r, n: d, k: nk, alpha: 1, a: ds, lda: nk, b: kh,
                ldb: wk, beta: 1, c: gqh, ldc: wq)
              s.gemm(
                transA: true, transB: false, m: nk, n: d, k: r, alpha: 1, a: ds, lda: nk, b: qh,
                ldb: wq, beta: 1, c: gk.raw + (bi * nk * wk + k.offset + h * d) * es, ldc: wk)
            }
          }
        }
      }
      return withExtendedLifetime(scratch) { grads }
    }
    return (out, probs)
  }

  /// Query rows the backward pass takes at a time: 64 for heads of at most 32 channels, whose
  /// products are too thin to hide streaming a whole (Nq, Nk) dP/dS through memory (measured: the
  /// tiny model's 800-token heads of 32 run their backward 20–25 % faster in blocks of 64 rows,
  /// one thread or two), else all of them (heads of 64: blocks measured no faster, their
  /// products' inner dimension then shrinks to the block).
  static func backwardRowBlock(queries: Int, headDim: Int) -> Int {
    max(1, headDim <= 32 ? min(64, queries) : queries)  // never 0: it is a stride
  }
}
