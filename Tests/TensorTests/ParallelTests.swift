import Testing

@testable import Tensor

/// Work spread over threads gives what one thread gives.
@Suite(.serialized) struct ParallelTests {
  /// The attention's (clip, head) pairs spread over two threads (each product and softmax on one
  /// thread, one scratch per thread in the backward pass, taken 64 query rows at a time: a block
  /// of 64 and one of 6) against the same pairs on one thread: outputs, probabilities and all three
  /// gradients.
  @Test func attentionHeadsOnTwoThreadsMatchOneThread() throws {
    var rng = SplitMix64(seed: 77)
    let (b, n, heads, d) = (2, 70, 3, 16)
    let qkv = Tensor.randn([b, n, 3 * heads * d], rng: &rng)  // (B, N, 3C)
    let g = Tensor.randn([b, n, heads * d], rng: &rng)  // (B, N, C)
    func run(threads: Int) throws -> (out: [Float], probs: [Float], grad: [Float]) {
      let saved = Threads.count
      defer { Threads.count = saved }
      Threads.count = threads
      let x = qkv.detached()
      x.requiresGrad = true
      let (out, probs) = try Tensor.multiHeadAttention(
        q: .init(x), k: .init(x, offset: heads * d), v: .init(x, offset: 2 * heads * d),
        heads: heads, headDim: d, scale: 0.25)
      try out.backward(g)
      return (out.toFloats(), probs.toFloats(), x.grad?.toFloats() ?? [])
    }
    let one = try run(threads: 1), two = try run(threads: 2)
    #expect(one.grad.count == qkv.count)
    for (name, a, c) in [
      ("output", one.out, two.out), ("probabilities", one.probs, two.probs),
      ("gradient", one.grad, two.grad),
    ] {
      #expect(a.count == c.count, "\(name)")
      let worst = zip(a, c).map { abs($0 - $1) / max(abs($0), 1) }.max() ?? 0
      #expect(worst < 1e-5, "\(name) differs by \(worst)")
    }
  }

  /// Inside one share of `parallelUnits`, kernels stay on their thread (no nested fan-out) and
  /// every unit runs exactly once.
  @Test func everyUnitRunsOnceAndSharesStayOnTheirThread() {
    let saved = Threads.count
    defer { Threads.count = saved }
    Threads.count = 2
    let counts = UnsafeMutableBufferPointer<Int>.allocate(capacity: 9)
    let nested = UnsafeMutableBufferPointer<Bool>.allocate(capacity: 9)
    defer { (counts.deallocate(), nested.deallocate()) }
    counts.initialize(repeating: 0)
    nested.initialize(repeating: false)
    parallelUnits(9) { u, share in
      counts[u] += 1
      nested[u] = ParallelRegion.isInside && share < 2
    }
    #expect(Array(counts) == Array(repeating: 1, count: 9))
    #expect(nested.allSatisfy { $0 })
    #expect(!ParallelRegion.isInside)
  }
}
