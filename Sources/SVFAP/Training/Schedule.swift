import Foundation

/// Learning rate by step: linear warmup from 0 to the peak, then cosine decay to the minimum (the
/// authors' `cosine_scheduler`); the peak is the base rate scaled by batch/256.
public struct CosineSchedule: Codable, Sendable, Equatable {
  /// Base learning rate (per 256 clips).
  public var baseLR: Double
  /// Smallest rate at the end.
  public var minLR: Double
  /// Warmup steps.
  public var warmupSteps: Int
  /// Total steps.
  public var totalSteps: Int
  /// Effective batch (clips per update, accumulation included).
  public var batch: Int

  /// A schedule.
  public init(baseLR: Double, minLR: Double, warmupSteps: Int, totalSteps: Int, batch: Int) {
    self.baseLR = baseLR
    self.minLR = minLR
    self.warmupSteps = warmupSteps
    self.totalSteps = totalSteps
    self.batch = batch
  }

  /// The peak rate: base × batch / 256.
  public var peakLR: Double { baseLR * Double(batch) / 256 }

  /// The rate at a 0-based step.
  public func lr(at step: Int) -> Double {
    if step < warmupSteps { return peakLR * Double(step) / Double(max(warmupSteps, 1)) }
    let decaySteps = max(totalSteps - warmupSteps, 1)
    let t = min(Double(step - warmupSteps) / Double(decaySteps), 1)
    return minLR + 0.5 * (peakLR - minLR) * (1 + cos(Double.pi * t))
  }
}

/// Layer-wise learning-rate decay for fine-tuning (the authors' layer-decay assigner): layer 0 is the
/// patch embedding, block i is layer i + 1, a stage's temporal and spatial downsampling share the layer
/// of the stage's first block, and everything after the blocks (fc_norm, head) is layer L + 1, whose
/// scale is 1; layer k gets decay^(L + 1 − k).
public func layerDecayScales(names: [String], stageDepths: [Int], decay: Double) -> [Double] {
  let blockCount = stageDepths.reduce(0, +), top = blockCount + 1
  func stageStart(_ s: Int) -> Int { stageDepths.prefix(s).reduce(0, +) }
  return names.map { name in
    let layer: Int
    func index(after key: String) -> Int? {
      guard let r = name.range(of: key) else { return nil }
      return Int(name[r.upperBound...].prefix { $0.isNumber })
    }
    if name.contains("patch_embed") {
      layer = 0
    } else if let n = index(after: "blocks."), !name.hasPrefix("decoder") {
      layer = n + 1
    } else if let s = index(after: "downsamples.") {
      layer = stageStart(s + 1) + 1
    } else {
      layer = top
    }
    return pow(decay, Double(top - layer))
  }
}
