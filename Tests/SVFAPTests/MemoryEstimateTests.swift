import Testing

@testable import SVFAP

/// The memory check before a step: refuses what cannot fit with the numbers in the message, lets
/// through what fits, and stays a lower estimate of what a step keeps.
@Suite struct MemoryEstimateTests {
  /// A batch is refused exactly when its estimate exceeds what is available, and the message says
  /// how many clips could fit at most (that many pass, one more does not).
  @Test func theCheckRefusesWhatCannotFitAndSaysWhatCould() throws {
    let cfg = try SVFAPConfig.preset("svfap-small")
    let perClip = MemoryEstimate.stepBytes(cfg, task: .pretrain, training: true, batch: 1)
    let weights = MemoryEstimate.weightCopies(
      cfg, task: .pretrain, training: true, optimizer: true, replicas: 1)
    let available = weights + 10.5 * perClip  // room for 10 clips
    func check(_ batch: Int) throws {
      try MemoryEstimate.check(
        cfg, model: "svfap-small", task: .pretrain, training: true, batch: batch,
        optimizer: true, available: available)
    }
    try check(10)
    do {
      try check(11)
      Issue.record("11 clips passed with room for 10")
    } catch {
      let text = "\(error)"
      #expect(text.contains("too large for this machine"), "\(text)")
      #expect(text.contains("svfap-small on 11 clips") && text.contains("fewer than 11 clips"))
    }
    do {
      try MemoryEstimate.check(
        cfg, model: "svfap-small", task: .pretrain, training: true, batch: 1, optimizer: true,
        available: weights / 2)
      Issue.record("a model larger than the memory passed")
    } catch {
      #expect("\(error)".contains("not even one clip fits"))
    }
    let huge = try SVFAPConfig.preset("svfap-base")
    do {
      try MemoryEstimate.checkWeights(huge, dtype: .float64, available: 1e8)
      Issue.record("a 100 MB machine built svfap-base")
    } catch {
      #expect("\(error)".contains("M weights") && "\(error)".contains("0.1 GB available"))
    }
    try MemoryEstimate.checkWeights(huge, dtype: .float32, available: 1e10)
    // Unknown memory: no check.
    try MemoryEstimate.check(
      cfg, model: "svfap-small", task: .pretrain, training: true, batch: 4096, available: nil)
  }

  /// The estimate grows with the batch and the work: training keeps more than a forward pass,
  /// replicas and the optimizer add weight copies, and every figure stays below the peak RSS
  /// measured for the same step (README's "Measured here" table: the check never refuses a step
  /// that ran).
  @Test func theEstimateIsALowerBoundThatGrowsWithTheWork() throws {
    let base = try SVFAPConfig.preset("svfap-base")
    let b1 = MemoryEstimate.stepBytes(base, task: .pretrain, training: true, batch: 1)
    let b8 = MemoryEstimate.stepBytes(base, task: .pretrain, training: true, batch: 8)
    #expect(abs(b8 - 8 * b1) < 1)
    #expect(
      MemoryEstimate.stepBytes(base, task: .finetune, training: false, batch: 1)
        < MemoryEstimate.stepBytes(base, task: .finetune, training: true, batch: 1))
    let one = MemoryEstimate.weightCopies(
      base, task: .finetune, training: true, optimizer: false, replicas: 1)
    let two = MemoryEstimate.weightCopies(
      base, task: .finetune, training: true, optimizer: true, replicas: 2)
    #expect(abs(two - 3 * one) < 1, "two replicas with gradients and two moments: 6 copies")
    // Measured peak RSS in MB (bench model, no optimizer), README "Measured here".
    let measured: [(String, ModelTask, Bool, Int, Double)] = [
      ("svfap-tiny", .pretrain, true, 4, 246), ("svfap-small", .pretrain, true, 1, 562),
      ("svfap-base", .pretrain, true, 8, 2678), ("svfap-base", .finetune, false, 1, 422),
      ("svfap-base", .finetune, true, 1, 1347),
    ]
    for (preset, task, training, batch, mb) in measured {
      let cfg = try SVFAPConfig.preset(preset)
      let estimate =
        MemoryEstimate.stepBytes(cfg, task: task, training: training, batch: batch)
        + MemoryEstimate.weightCopies(
          cfg, task: task, training: training, optimizer: false, replicas: 1)
      #expect(estimate / 1e6 < mb, "\(preset) \(task) b\(batch): \(estimate / 1e6) MB")
      #expect(estimate / 1e6 > mb / 4, "\(preset) \(task) b\(batch): far too low")
    }
  }
}
