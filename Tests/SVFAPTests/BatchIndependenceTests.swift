import Testing

@testable import SVFAP
@testable import Tensor

/// A clip's outputs do not depend on which clips share its batch: data-parallel training splits
/// batches over processes and must see the same per-clip values (float64, to rounding).
@Suite struct BatchIndependenceTests {
  /// Clips (B, 3, T, H, W) of random values.
  func clips(_ c: SVFAPConfig, batch: Int, seed: UInt64) -> Tensor {
    var rng = SplitMix64(seed: seed)
    return Tensor.randn([batch, 3, c.frames, c.imgSize, c.imgSize], dtype: .float64, rng: &rng)
  }

  @Test(arguments: [DType.float64, .float32])
  func pretrainingRowsMatchSingleClips(dtype: DType) throws {
    let c = try SVFAPConfig.preset("svfap-tiny")
    let m = try PretrainModel(c, dtype: dtype, seed: 4)
    let x = try clips(c, batch: 3, seed: 9).to(dtype)
    var rng = SplitMix64(seed: 2)
    let mask = try TokenMask.tube(
      batch: 3, slices: c.timeSlices, perSlice: c.tokensPerSlice, ratio: 0.9, rng: &rng)
    let batched = try m(x, mask: mask).toDoubles()
    let per = batched.count / 3
    for i in 0..<3 {
      let one = try TokenMask(
        masked: [(0..<mask.tokenCount).map { mask.masked[i].contains($0) }], slices: c.timeSlices)
      let single = try m(x.slice(axis: 0, start: i, count: 1), mask: one).toDoubles()
      let worst = zip(single, batched[(i * per)..<((i + 1) * per)]).map { abs($0 - $1) }.max() ?? 0
      #expect(
        worst < (dtype == .float64 ? 1e-10 : 1e-4),
        "clip \(i): batched and single predictions differ by \(worst)")
    }
  }

  @Test func finetuningRowsMatchSingleClips() throws {
    let c = try SVFAPConfig.preset("svfap-tiny")
    let m = try FinetuneModel(c, dtype: .float64, seed: 4)
    m.train(false)
    let x = clips(c, batch: 3, seed: 9)
    let batched = try m(x).toDoubles()
    let per = batched.count / 3
    for i in 0..<3 {
      let single = try m(x.slice(axis: 0, start: i, count: 1)).toDoubles()
      let worst = zip(single, batched[(i * per)..<((i + 1) * per)]).map { abs($0 - $1) }.max() ?? 0
      #expect(worst < 1e-10, "clip \(i): batched and single outputs differ by \(worst)")
    }
  }
}
