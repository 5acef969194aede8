import Foundation
import Tensor

/// Where a micro-batch sits in its run: the optimizer steps before it and its index among the
/// step's micro-batches. A process trains the samples `shard.range(of: batch)` of each global batch.
public struct MicroBatch: Sendable {
  /// Optimizer steps taken before this one.
  public let step: Int
  /// The micro-batch's index in its step (0..<accumulate).
  public let micro: Int
}

/// What generators draw, mixed into a sample's seed so draws for different purposes never collide.
public enum SamplePurpose {
  /// Which clips a step trains on (in-memory data).
  public static let picks: UInt64 = 0x5049_434B
  /// The tube mask of a pretraining sample.
  public static let mask: UInt64 = 0x4D41_534B
  /// Drop-path coins of a sample.
  public static let dropPath: UInt64 = 0x4452_4F50
  /// The augmentation draw of a sample.
  public static let augment: UInt64 = 0x4155_474D
}

extension TrainingRunState {
  /// The positions in the global batch of a micro-batch of `localBatch` samples on this process.
  public func globalSamples(localBatch: Int) -> Range<Int> {
    shard.index * localBatch..<(shard.index + 1) * localBatch
  }

  /// Drop-path seeds of a micro-batch's samples on this process.
  public func dropPathSeeds(_ slot: MicroBatch, localBatch: Int) -> [UInt64] {
    globalSamples(localBatch: localBatch).map {
      var g = sampleGenerator(slot, sample: $0, purpose: SamplePurpose.dropPath)
      return g.next()
    }
  }
}

extension TrainingRunState {
  /// The step loop both trainers share: up to `steps` optimizer steps, each summing the gradients
  /// of `accumulate` micro-batch losses (each scaled by 1/accumulate, so the sum is the mean loss's
  /// gradient) from `microBatch` (the loss and its clip count; nil = no more data), then clipping,
  /// the scheduled update, and a `StepLog` appended to the log, to the JSON-lines file and shown to
  /// `progress`. `shouldStop` is polled between steps; a non-finite loss or gradient stops before
  /// the update. With several processes, the run is synchronized from rank 0 first, every step's
  /// outcome is agreed by all (any process's stop, error or non-finite loss stops every process),
  /// gradients are averaged over the processes before clipping, and rank 0 alone writes the log.
  func runTrainingSteps(
    _ steps: Int, model: Module, config: SVFAPConfig,
    shouldStop: () -> Bool,
    progress: (StepLog) -> Void,
    microBatch: (MicroBatch) throws -> (loss: Tensor, clips: Int)?
  ) throws -> TrainingStop {
    let micro = max(accumulate, 1)
    let parallel =
      collective.size > 1 ? DataParallel(world: collective, buffer: reductionBuffer) : nil
    if let parallel {
      try parallel.synchronize(
        self, model: model,
        signature: DataParallel.Signature(
          config: config,
          parameters: optimizer.parameters.map { "\($0.name) \($0.tensor.shape)" },
          run: DataParallel.Signature.comparable(settings), steps: steps))
    }
    // The parameters found once per call (reflection over the model takes milliseconds).
    let parameters = model.parameters()
    func zeroGrads() { for p in parameters { p.grad = nil } }
    for _ in 0..<steps {
      let t0 = monotonicSeconds()
      zeroGrads()
      var local = DataParallel.Status()
      var failure: Error?
      if shouldStop() {
        local.stop = true
      } else {
        do {
          try forwardBackward(micro: micro, into: &local, microBatch)
        } catch {
          (local.failed, failure) = (true, error)
        }
      }
      let status: DataParallel.Status
      if let parallel {
        local.dataPosition = dataPosition
        status = try parallel.agree(local, failure: failure)
        dataPosition = status.dataPosition
      } else {
        if let failure { throw failure }
        status = local
      }
      if status.stop || status.ended || status.nonFinite { zeroGrads() }
      if status.stop { return .interrupted }
      if status.ended { return .finished }
      if status.nonFinite { return .nonFinite(step: optimizer.step + 1) }
      if let parallel {
        let start = monotonicSeconds()
        communication.bytes += try parallel.averageGradients(optimizer.parameters)
        communication.seconds += monotonicSeconds() - start
      }
      let norm = optimizer.clipGradients(maxNorm: clipGrad)
      guard norm.isFinite else {
        zeroGrads()
        return .nonFinite(step: optimizer.step + 1)
      }
      let lr = schedule.lr(at: optimizer.step)
      optimizer.update(lr: lr)
      let entry = StepLog(
        step: optimizer.step, loss: status.loss, lr: lr, gradNorm: norm,
        clipsPerSecond: Double(status.clips) / max(monotonicSeconds() - t0, 1e-9))
      log.append(entry)
      if let logPath, collective.isRoot { try appendJSONLine(entry, to: logPath) }
      progress(entry)
    }
    return .finished
  }

  /// One process's share of a step: the micro-batches' forward and backward passes, their mean
  /// loss and clip count into `status` (stopping at the first missing batch or non-finite loss).
  private func forwardBackward(
    micro: Int, into status: inout DataParallel.Status,
    _ microBatch: (MicroBatch) throws -> (loss: Tensor, clips: Int)?
  ) throws {
    for m in 0..<micro {
      guard let (loss, n) = try microBatch(MicroBatch(step: optimizer.step, micro: m)) else {
        status.ended = true
        return
      }
      let scaled = loss.affine(1 / Double(micro))
      let v = try scaled.item()
      guard v.isFinite else {
        status.nonFinite = true
        return
      }
      status.loss += v
      status.clips += n
      try scaled.backward()
    }
  }
}
