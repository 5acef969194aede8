import Glibc
import Testing

@testable import Tensor
@testable import Tools

/// `svfap bench model --profile`: every kind of work is reported, the kinds a pretraining step does
/// are non-zero, and the parts add up to the step (not a timing assertion: shares only).
@Suite(.serialized) struct ProfileTests {
  @Test func aPretrainingStepIsAccountedForByKind() throws {
    let r = try ModelBenchmark.run(
      preset: "svfap-nano", task: .pretrain, mode: .train, batch: 2, threads: 1, runs: 2,
      profile: true)
    let kinds = Dictionary(uniqueKeysWithValues: r.profileMs.map { ($0.kind, $0.ms) })
    #expect(Set(kinds.keys) == Set(Profile.Kind.allCases.map(\.name) + ["other"]))
    for busy in ["matmul", "softmax", "norm", "elementwise", "reduction", "copies", "target"] {
      #expect((kinds[busy] ?? 0) > 0, "\(busy) took no time in a pretraining step")
    }
    #expect(kinds["optimizer"] == 0, "the benchmark step has no optimizer update")
    #expect(r.json.contains("\"profile_ms\": {\"matmul\": "))
    // Off again: kernels no longer count.
    Profile.start()
    _ = Profile.stop()
    let idle = try ModelBenchmark.run(
      preset: "svfap-nano", task: .pretrain, mode: .train, batch: 1, threads: 1, runs: 1)
    #expect(idle.profileMs.isEmpty && !idle.json.contains("profile"))
  }

  /// Only threads that joined the profile count: work another thread does meanwhile (a concurrent
  /// session or test) is not the profiled run's.
  @Test func workOfThreadsOutsideTheProfileIsNotCounted() {
    Profile.start()
    _ = Profile.measure(.optimizer) { usleep(2000) }  // this thread has not joined: not counted
    Profile.joinProfile()
    _ = Profile.measure(.target) { usleep(2000) }
    Profile.leaveProfile()
    let seconds = Profile.stop()
    #expect(seconds[.optimizer] == 0)
    #expect((seconds[.target] ?? 0) >= 0.0015)
  }

  /// `split`: the training step `train` runs on a small model (replicas on threads, gradients
  /// averaged) is what is timed and profiled, and the result says so; a batch the threads do not
  /// divide is refused; forward steps and wide models do not split.
  @Test func aSplitStepRunsOnReplicasAndSaysSo() throws {
    let r = try ModelBenchmark.run(
      preset: "svfap-nano", task: .pretrain, mode: .train, batch: 2, threads: 1, runs: 1,
      profile: true, split: 2)
    #expect(r.split == 2 && r.json.contains("\"split\": 2"))
    #expect((r.sgemmCeilingMs ?? 0) > 0 && (r.ofCeiling ?? 0) > 0, "the split step's ceiling")
    // Each member marks its own attention's calls (the mark is per thread): a split step has an
    // attention part too.
    let attention = try #require(r.attentionCeilingMs, "the split step's attention part")
    #expect(attention > 0 && attention < (r.sgemmCeilingMs ?? 0))
    let kinds = Dictionary(uniqueKeysWithValues: r.profileMs.map { ($0.kind, $0.ms) })
    #expect((kinds["matmul"] ?? 0) > 0 && (kinds["attention"] ?? 0) > 0)
    #expect(r.medianMs > 0 && r.minMs <= r.medianMs)
    do {
      _ = try ModelBenchmark.run(
        preset: "svfap-nano", task: .pretrain, mode: .train, batch: 3, threads: 1, runs: 1,
        split: 2)
      Issue.record("a batch of 3 was split over 2 threads")
    } catch {
      #expect("\(error)".contains("does not split over 2 threads"))
    }
    let forward = try ModelBenchmark.run(
      preset: "svfap-nano", task: .finetune, mode: .forward, batch: 2, threads: 1, runs: 1,
      split: 2)
    #expect(forward.split == 1)
    let cores = min(2, Threads.available)
    #expect(
      try ModelBenchmark.trainingSplit(preset: "svfap-tiny", mode: .train, batch: 4, threads: 2)
        == (cores >= 2 ? 2 : 1))
    #expect(
      try ModelBenchmark.trainingSplit(preset: "svfap-small", mode: .train, batch: 4, threads: 2)
        == 1)
    #expect(
      try ModelBenchmark.trainingSplit(preset: "svfap-tiny", mode: .forward, batch: 4, threads: 2)
        == 1)
  }

  /// The GEMM log records each product as BLAS sees it (row-major C = op(A)·op(B)): a linear
  /// layer's forward and its two backward products, with their leading dimensions.
  @Test func theGemmLogRecordsALinearLayersProducts() throws {
    var rng = SplitMix64(seed: 3)
    let x = Tensor.randn([5, 7], rng: &rng), w = Tensor.randn([3, 7], rng: &rng)
    (x.requiresGrad, w.requiresGrad) = (true, true)
    ModelBenchmark.profiling.lock()  // no profiled benchmark of another suite restarts the log
    defer { ModelBenchmark.profiling.unlock() }
    GemmLog.start()
    try x.linear(w, nil).sum().backward()
    // The log is the process's: other suites' products may be in it too, never with these sizes.
    let calls = GemmLog.stop().filter { Set([$0.m, $0.n, $0.k]) == [3, 5, 7] }
    let shapes = calls.map { [$0.m, $0.n, $0.k, $0.lda, $0.ldb, $0.ldc] }
    #expect(shapes.first == [5, 3, 7, 7, 7, 3], "forward: x (5, 7) · wᵀ")
    #expect(calls.first.map { !$0.transA && $0.transB && !$0.inShare } == true)
    #expect(Set(shapes.dropFirst()) == [[5, 7, 3, 3, 7, 7], [3, 7, 5, 3, 7, 7]], "dx and dw")
    #expect(calls.count == 3)
    let flops: Double = calls.map(\.flops).reduce(0, +)
    #expect(flops == Double(3 * 2 * 5 * 3 * 7))
    _ = try x.linear(w, nil)
    #expect(
      !GemmLog.stop().contains { Set([$0.m, $0.n, $0.k]) == [3, 5, 7] }, "off: not recorded")
  }

  /// The ceiling: calls recorded over several steps count once per step, calls made in a share of
  /// a parallel region and the attention's products are marked, and a profiled benchmark reports
  /// the replays (warm, cold, the attention's part) beside the step.
  @Test func theCeilingReplaysOneStepsCalls() throws {
    let call = GemmLog.Call(
      m: 64, n: 64, k: 64, transA: false, transB: true, lda: 64, ldb: 64, ldc: 64,
      accumulates: false, inShare: false, inAttention: false)
    let ceiling = GemmCeiling(
      Array(repeating: call, count: 6), steps: 3, threads: 1, concurrent: 1, oneThreadEach: false)
    #expect(ceiling.perStep.count == 1 && ceiling.perStep.first?.count == 2)
    #expect(ceiling.flops == 2 * call.flops)
    #expect(ceiling.replayMilliseconds().total > 0)
    #expect(ceiling.replayMilliseconds().attention == 0, "no call was the attention's")
    #expect(ceiling.replayMilliseconds(cold: true).total > 0)
    #expect(ceiling.coldArenaFits(available: nil), "unknown memory: replayed")
    #expect(!ceiling.coldArenaFits(available: 1_048_576), "an arena beyond a quarter of 1 MiB")
    #expect(ceiling.coldArenaFits(available: 1e15))
    let attentionCall = GemmLog.Call(
      m: 64, n: 64, k: 64, transA: false, transB: true, lda: 64, ldb: 64, ldc: 64,
      accumulates: false, inShare: true, inAttention: true)
    let mixed = GemmCeiling(
      [call, attentionCall], steps: 1, threads: 1, concurrent: 1, oneThreadEach: false
    ).replayMilliseconds()
    #expect(mixed.attention > 0 && mixed.attention < mixed.total, "the attention's part")
    let ones = Tensor.ones([2, 2]), products = Tensor.zeros([2, 2, 2])  // one (2, 2) per share
    ModelBenchmark.profiling.lock()
    GemmLog.start()
    parallelUnits(2, threads: 2) { unit, _ in
      Float.gemm(
        transA: false, transB: false, m: 2, n: 2, k: 2, alpha: 1, a: ones.raw, lda: 2,
        b: ones.raw, ldb: 2, beta: 0, c: products.raw + unit * 16, ldc: 2)
    }
    let shared = GemmLog.stop().filter { [$0.m, $0.n, $0.k] == [2, 2, 2] }
    #expect(shared.count == 2 && shared.allSatisfy(\.inShare))
    // The attention's products are marked on one thread (no share) as on two.
    for threads in [1, 2] {
      let saved = Threads.count
      Threads.count = threads
      let qkv = Tensor.ones([1, 7, 45])  // (B, N, 3·3·5)
      GemmLog.start()
      _ = try Tensor.multiHeadAttention(
        q: .init(qkv), k: .init(qkv, offset: 15), v: .init(qkv, offset: 30), heads: 3,
        headDim: 5, scale: 1)
      let attention = GemmLog.stop().filter {
        [$0.m, $0.n, $0.k] == [7, 7, 5] || [$0.m, $0.n, $0.k] == [7, 5, 7]
      }
      Threads.count = saved
      #expect(attention.count == 6 && attention.allSatisfy(\.inAttention), "\(threads) threads")
    }
    ModelBenchmark.profiling.unlock()
    let r = try ModelBenchmark.run(
      preset: "svfap-nano", task: .pretrain, mode: .train, batch: 1, threads: 1, runs: 2,
      profile: true)
    let share = try #require(r.ofCeiling), ms = try #require(r.sgemmCeilingMs)
    #expect(ms > 0 && share > 0 && share.isFinite)
    #expect(r.json.contains("\"sgemm_ceiling_ms\": ") && r.json.contains("\"of_ceiling\": "))
    let attention = try #require(r.attentionCeilingMs, "an unsplit step's attention part")
    #expect(attention > 0 && attention < ms, "the attention's products are part of the ceiling")
    #expect(r.json.contains("\"attention_ceiling_ms\": "))
    let cold = try #require(r.coldCeilingMs), coldShare = try #require(r.ofColdCeiling)
    #expect(cold > 0 && coldShare > 0 && coldShare.isFinite)
    #expect(r.json.contains("\"cold_ceiling_ms\": ") && r.json.contains("\"of_cold_ceiling\": "))
  }

  /// The cold replay's operands: each call's A, B and C follow the previous call's in an arena at
  /// least twice the last-level cache, wrapping to its start, never overlapping one another.
  @Test func coldOperandsNeverOverlapTheLastCalls() throws {
    var arena = ColdOperands(largest: 100, cacheBytes: 8000)
    #expect(arena.floats == 4000, "twice the cache (2000 floats)")
    #expect(ColdOperands(largest: 3000, cacheBytes: 8000).floats == 6000, "twice the operands")
    #expect(ColdOperands(largest: 1, cacheBytes: 1 << 40).floats == 1 << 28, "at most 1 GiB")
    let first = arena.place(a: 700, b: 300, c: 500)
    #expect(first.a == 0 && first.b == 700 && first.c == 1000)
    let second = arena.place(a: 700, b: 300, c: 500)
    #expect(second.a == 1500 && second.b == 2200 && second.c == 2500)
    let third = arena.place(a: 700, b: 300, c: 500)
    #expect(third.a == 0, "3000 + 1500 would pass the end: back to the start")
    #expect(ColdOperands.parseSize("107520K") == 107_520 * 1024)
    #expect(ColdOperands.parseSize("2M") == 2 << 20 && ColdOperands.parseSize("512") == 512)
    for bad in ["", "K", "x2M", "-4K", "0", "99999999999G"] {
      #expect(ColdOperands.parseSize(bad) == nil, "\(bad)")
    }
    #expect(ColdOperands.lastLevelCacheBytes() > 0)
  }

  /// `bench memory`'s current RSS (from /proc/self/statm's first line): positive and at most the
  /// process's peak; a file that cannot be read gives nil, not a trap.
  @Test func currentRssIsReadFromStatm() {
    let current = ModelBenchmark.currentRssMB()
    #expect(current > 0 && current <= ModelBenchmark.peakRssMB() + 1)
    #expect(firstLine(ofFile: "/proc/self/statm")?.split(separator: " ").count ?? 0 >= 2)
    #expect(firstLine(ofFile: "/nonexistent/svfap") == nil)
  }

  /// `bench ops`' target figure: one positive, finite ns-per-value figure under its name.
  @Test func theTargetFigureIsPerValue() throws {
    var rng = SplitMix64(seed: 5)
    var figures: [BenchFigure] = []
    try OpsBenchmark.targetFigure(runs: 1, rng: &rng) { figures.append($0) }
    #expect(figures.map(\.name) == ["target.normalized_pixels"])
    #expect(figures.allSatisfy { $0.unit == "ns/value" && $0.value.isFinite && $0.value > 0 })
  }
}
