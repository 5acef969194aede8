import Testing

@testable import Tensor

/// Finite-difference gradient checks in Double for every differentiable op (tolerance 1e-6
/// relative: central differences with h = 1e-6 have truncation error ~h² and rounding error
/// ~1e-16/h ≈ 1e-10).
@Suite struct GradientTests {
  let tol = 1e-6

  @Test func addSubMulDivBroadcast() throws {
    let a = randD([2, 3, 4], seed: 1), b = randD([3, 1], seed: 2)
    let c = try randD([4], seed: 3) + 3  // keep away from zero for division
    #expect(try gradCheck([a, b]) { try weighted($0[0] + $0[1]) } < tol)
    #expect(try gradCheck([a, b]) { try weighted($0[0] - $0[1]) } < tol)
    #expect(try gradCheck([a, b]) { try weighted($0[0] * $0[1]) } < tol)
    #expect(try gradCheck([a, c]) { try weighted($0[0] / $0[1]) } < tol)
  }

  @Test func affineAndUnary() throws {
    let x = randD([3, 17], seed: 4)
    #expect(try gradCheck([x]) { try weighted($0[0].affine(2.5, -1)) } < tol)
    for op in [UnaryOp.neg, .exp, .sigmoid, .tanh, .gelu, .square] {
      #expect(try gradCheck([x]) { try weighted($0[0].unary(op)) } < tol, "\(op)")
    }
    let pos = try x.square() + 0.5
    for op in [UnaryOp.log, .sqrt] {
      #expect(try gradCheck([pos.detached()]) { try weighted($0[0].unary(op)) } < tol, "\(op)")
    }
    // relu: no sample of this seed lies within h of the kink at 0.
    #expect(x.toDoubles().allSatisfy { abs($0) > 1e-3 })
    #expect(try gradCheck([x]) { try weighted($0[0].relu()) } < tol)
  }

  @Test func sumMeanExpand() throws {
    let x = randD([2, 3, 4], seed: 5)
    for axis in 0..<3 {
      #expect(try gradCheck([x]) { try weighted($0[0].sum(axis: axis)) } < tol)
      #expect(try gradCheck([x]) { try weighted($0[0].mean(axis: axis, keepDim: true)) } < tol)
    }
    #expect(try gradCheck([x]) { try $0[0].mean() } < tol)
    #expect(
      try gradCheck([randD([3, 1], seed: 6)]) { try weighted($0[0].expand(to: [2, 3, 4])) } < tol)
  }

  @Test func reshapePermuteConcatSlice() throws {
    let x = randD([2, 3, 4], seed: 7), y = randD([2, 2, 4], seed: 8)
    #expect(try gradCheck([x]) { try weighted($0[0].reshaped([6, 4])) } < tol)
    #expect(try gradCheck([x]) { try weighted($0[0].permuted([2, 0, 1])) } < tol)
    #expect(try gradCheck([x]) { try weighted($0[0].transposed(0, 2)) } < tol)
    #expect(try gradCheck([x, y]) { try weighted(Tensor.concat([$0[0], $0[1]], axis: 1)) } < tol)
    #expect(try gradCheck([x]) { try weighted($0[0].slice(axis: 2, start: 1, count: 2)) } < tol)
    #expect(try gradCheck([x]) { try weighted($0[0].split(axis: 1, sizes: [1, 2])[1]) } < tol)
  }

  @Test func gatherScatterRepeat() throws {
    let x = randD([2, 5, 3], seed: 9)
    let idx = [[0, 2, 4], [1, 1, 3]]  // a repeated index checks accumulation
    #expect(try gradCheck([x]) { try weighted($0[0].gatherRows(idx)) } < tol)
    let src = randD([2, 3, 3], seed: 10)
    #expect(try gradCheck([src]) { try weighted($0[0].scatterRows(idx, count: 5)) } < tol)
    #expect(try gradCheck([x]) { try weighted($0[0].repeatInterleave(3, axis: 1)) } < tol)
  }

  @Test func matmulAllTransposes() throws {
    for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
      let a = randD(ta ? [2, 4, 3] : [2, 3, 4], seed: 11),
        b = randD(tb ? [2, 5, 4] : [2, 4, 5], seed: 12)
      #expect(
        try gradCheck([a, b]) { try weighted(Tensor.matmul($0[0], $0[1], transA: ta, transB: tb)) }
          < tol)
    }
    let a = randD([2, 3, 4], seed: 13), w = randD([4, 5], seed: 14)
    #expect(try gradCheck([a, w]) { try weighted(Tensor.matmul($0[0], $0[1])) } < tol)
  }

  @Test func linearWithAndWithoutBias() throws {
    let x = randD([2, 3, 4], seed: 15), w = randD([5, 4], seed: 16), b = randD([5], seed: 17)
    #expect(try gradCheck([x, w, b]) { try weighted($0[0].linear($0[1], $0[2])) } < tol)
    #expect(try gradCheck([x, w]) { try weighted($0[0].linear($0[1], nil)) } < tol)
  }

  @Test func layerNormAndSoftmax() throws {
    let x = randD([3, 20], seed: 18), w = randD([20], seed: 19), b = randD([20], seed: 20)
    #expect(
      try gradCheck([x, w, b]) { try weighted($0[0].layerNorm($0[1], $0[2], eps: 1e-6)) } < tol)
    #expect(try gradCheck([x]) { try weighted($0[0].softmax(scale: 0.7)) } < tol)
    let q = randD([1, 2, 3, 4], seed: 21), k = randD([1, 2, 5, 4], seed: 22),
      v = randD([1, 2, 5, 4], seed: 23)
    #expect(
      try gradCheck([q, k, v]) { try weighted(Tensor.attention($0[0], $0[1], $0[2], scale: 0.5)) }
        < tol)
    // Fused multi-head attention on a packed (B, N, 3C) source and on separate q / kv sources.
    let qkv = randD([2, 5, 3 * 6], seed: 28)
    #expect(
      try gradCheck([qkv]) {
        try weighted(
          Tensor.multiHeadAttention(
            q: .init($0[0]), k: .init($0[0], offset: 6), v: .init($0[0], offset: 12),
            heads: 2, headDim: 3, scale: 0.6
          ).output)
      } < tol)
    // Thin heads take the backward pass 64 query rows at a time (here a block of 64 and one of
    // 6); wide heads (33 channels) all rows at once.
    for (n, heads, d, seed) in [(70, 2, 3, 31), (6, 1, 33, 32)] {
      #expect(Tensor.backwardRowBlock(queries: n, headDim: d) == (d <= 32 ? 64 : n))
      let packed = randD([1, n, 3 * heads * d], seed: UInt64(seed))
      #expect(
        try gradCheck([packed]) {
          try weighted(
            Tensor.multiHeadAttention(
              q: .init($0[0]), k: .init($0[0], offset: heads * d),
              v: .init($0[0], offset: 2 * heads * d), heads: heads, headDim: d, scale: 0.4
            ).output)
        } < tol, "\(n) tokens, \(heads) heads of \(d)")
    }
    let qs = randD([2, 3, 6], seed: 29), kv = randD([2, 4, 12], seed: 30)
    #expect(
      try gradCheck([qs, kv]) {
        try weighted(
          Tensor.multiHeadAttention(
            q: .init($0[0]), k: .init($0[1]), v: .init($0[1], offset: 6),
            heads: 3, headDim: 2, scale: 0.7
          ).output)
      } < tol)
  }

  /// The blocks a mask keeps, unfolded alone: the same rows as unfolding the whole tensor and
  /// gathering, and a gradient that adds each row back (an index may repeat).
  @Test func gatherBlocks() throws {
    let video = randD([2, 2, 4, 4, 6], seed: 50)  // (B, C, D1, D2, D3): blocks 2x2x2 -> 2·2·3
    let picks = [[0, 5, 11], [7, 7, 2]]
    #expect(
      try gradCheck([video]) { try weighted($0[0].gatherBlocks(picks, block: (2, 2, 2))) } < tol)
    let whole = try video.reshaped([2, 2, 2, 2, 2, 2, 3, 2]).permuted([0, 2, 4, 6, 1, 3, 5, 7])
      .reshaped([2, 12, 16]).gatherRows(picks)
    #expect(try video.gatherBlocks(picks, block: (2, 2, 2)).toDoubles() == whole.toDoubles())
    // Blocks of three different sizes: 2x1x3 -> a 2·4·2 grid of 2·2·1·3 values.
    let uneven = try video.reshaped([2, 2, 2, 2, 4, 1, 2, 3]).permuted([0, 2, 4, 6, 1, 3, 5, 7])
      .reshaped([2, 16, 12]).gatherRows([[0, 15], [9, 3]])
    #expect(
      try video.gatherBlocks([[0, 15], [9, 3]], block: (2, 1, 3)).toDoubles()
        == uneven.toDoubles())
    #expect(throws: TensorError.self) { try video.gatherBlocks(picks, block: (3, 2, 2)) }
    #expect(throws: TensorError.self) { try video.gatherBlocks([[12], [0]], block: (2, 2, 2)) }
    #expect(throws: TensorError.self) { try video.gatherBlocks([[1, 2], [0]], block: (2, 2, 2)) }
  }

  @Test func losses() throws {
    let logits = randD([3, 5], seed: 24), target = randD([3, 5], seed: 25)
    #expect(
      try gradCheck([logits]) { try $0[0].crossEntropy(labels: [0, 4, 2], smoothing: 0.1) } < tol)
    #expect(try gradCheck([logits]) { try $0[0].crossEntropy(labels: [1, 1, 3]) } < tol)
    let soft = try target.softmax().detached()
    #expect(try gradCheck([logits]) { try $0[0].softCrossEntropy(targets: soft) } < tol)
    #expect(try gradCheck([logits]) { try $0[0].mse(target) } < tol)
    #expect(try gradCheck([logits, target]) { try $0[0].mse($0[1]) } < tol)
    // The fused float32 kernel against the composite over a size that crosses its 4096-element
    // chunks and leaves a tail of a 16-element block.
    var rng = SplitMix64(seed: 41)
    let a = Tensor.uniform([5, 1003], -2, 2, rng: &rng),
      b = Tensor.uniform([5, 1003], -2, 2, rng: &rng)
    a.requiresGrad = true
    let fused = try a.mse(b)
    try fused.backward()
    let composite = try (a.detached() - b).square().mean()
    #expect(abs(try fused.item() - composite.item()) < 1e-6 * (try composite.item()))
    let expected = try ((a.detached() - b) * (2.0 / 5015)).toFloats()
    #expect(zip(a.grad?.toFloats() ?? [], expected).allSatisfy { abs($0 - $1) < 1e-7 })
    #expect(a.grad?.count == 5015)
  }

  @Test func dropoutAndDropPath() throws {
    let x = randD([4, 3, 2], seed: 26)
    // The same seed draws the same mask in every evaluation, so the function is deterministic.
    #expect(
      try gradCheck([x]) {
        var r = SplitMix64(seed: 5)
        return try weighted($0[0].dropout(0.3, rng: &r))
      } < tol)
    #expect(
      try gradCheck([x]) {
        var r = RowGenerators(seeds: [5, 6, 7, 8])
        return try weighted($0[0].dropPath(0.5, rows: &r))
      } < tol)
  }

  @Test func dtypeConversion() throws {
    let x = randD([3, 2], seed: 27)
    // The function is linear, so a large step avoids float32 rounding dominating the difference.
    #expect(
      try gradCheck([x], h: 1e-2) { try weighted($0[0].to(.float32).affine(2).to(.float64)) } < 1e-4
    )
  }
}
