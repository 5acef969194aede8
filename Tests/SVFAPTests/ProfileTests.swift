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
}
