import Foundation
import Testing

@testable import Experiments
@testable import SVFAP
@testable import Tensor

/// In-memory fine-tuning batches as the authors' loader gives them: epochs over shuffled videos,
/// repeated samples, reproducible from the run's position.
@Suite struct ShuffledClipsTests {
  /// A small fine-tuning run (its data seed and position drive the batches).
  func run(seed: UInt64) throws -> Finetuner {
    var cfg = try SVFAPConfig.preset("svfap-nano")
    cfg.numClasses = 5
    return Finetuner(
      model: try FinetuneModel(cfg, seed: 1), task: .classification(smoothing: 0), totalSteps: 10,
      batch: 2, seed: seed)
  }

  /// Five "videos": one clip each whose every value is the video's index.
  func videos() -> [[Tensor]] { (0..<5).map { [Tensor.full([1, 3, 2, 8, 8], Double($0))] } }

  @Test func everyEpochVisitsEveryVideoOnceWithItsRepeats() throws {
    let r = try run(seed: 4)
    let source = try ShuffledClips(
      views: videos(), targets: (0..<5).map { [Double($0)] }, videosPerBatch: 1, repeats: 2,
      augmentation: .none, run: r)
    var epochs: [[Int]] = [[], []]
    for k in 0..<10 {
      guard let (clips, labels) = try source.next() else { throw ExperimentError("no batch") }
      #expect(clips.shape == [2, 3, 2, 8, 8] && labels.count == 2 && labels[0] == labels[1])
      #expect(clips.toFloats().allSatisfy { Double($0) == labels[0][0] })
      epochs[k / 5].append(Int(labels[0][0]))
    }
    #expect(epochs.allSatisfy { $0.sorted() == [0, 1, 2, 3, 4] })
    #expect(epochs[0] != epochs[1], "each epoch is shuffled anew")
    #expect(r.dataPosition == 10)
  }

  @Test func batchesRepeatFromTheRunsPosition() throws {
    let r = try run(seed: 9)
    var rng = SplitMix64(seed: 2)
    let clips = (0..<5).map { _ in [Tensor.randn([1, 3, 4, 32, 32], rng: &rng)] }
    let source = try ShuffledClips(
      views: clips, targets: (0..<5).map { [Double($0)] }, videosPerBatch: 2, repeats: 2,
      augmentation: .authors(), run: r)
    _ = try source.next()
    let position = r.dataPosition
    guard let (first, labels) = try source.next() else { throw ExperimentError("no batch") }
    r.dataPosition = position
    guard let (again, labelsAgain) = try source.next() else { throw ExperimentError("no batch") }
    #expect(first.toFloats() == again.toFloats() && labels == labelsAgain)
    // The two copies of a video are augmented differently.
    let copies = first.toFloats(), half = copies.count / 4
    #expect(Array(copies[0..<half]) != Array(copies[half..<(2 * half)]))
  }
}
