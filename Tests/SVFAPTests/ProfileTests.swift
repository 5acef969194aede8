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

  /// `split`: the training step `train` runs on a small model (replicas on threads, gradients
  /// averaged) is what is timed and profiled, and the result says so; a batch the threads do not
  /// divide is refused; forward steps and wide models do not split.
  @Test func aSplitStepRunsOnReplicasAndSaysSo() throws {
    let r = try ModelBenchmark.run(
      preset: "svfap-nano", task: .pretrain, mode: .train, batch: 2, threads: 1, runs: 1,
      profile: true, split: 2)
    #expect(r.split == 2 && r.json.contains("\"split\": 2"))
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

  /// `bench ops`' target figure: one positive, finite ns-per-value figure under its name.
  @Test func theTargetFigureIsPerValue() throws {
    var rng = SplitMix64(seed: 5)
    var figures: [BenchFigure] = []
    try OpsBenchmark.targetFigure(runs: 1, rng: &rng) { figures.append($0) }
    #expect(figures.map(\.name) == ["target.normalized_pixels"])
    #expect(figures.allSatisfy { $0.unit == "ns/value" && $0.value.isFinite && $0.value > 0 })
  }
}
