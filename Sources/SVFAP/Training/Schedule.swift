import Foundation

/// Learning rate by step, exactly the authors' `utils.cosine_scheduler`: warmup is
/// `linspace(0, peak, warmupSteps)` (0 at the first step, the peak at the last warmup step), then
/// `min + ½ (peak − min)(1 + cos(π i / (total − warmup)))` for i = 0 …; both the peak and the
/// minimum are the per-256-clip rates scaled by batch / 256 (`run_class_finetuning.py`,
/// `run_mae_pretraining.py`).
public struct CosineSchedule: Codable, Sendable, Equatable {
  /// Base learning rate (per 256 clips).
  public var baseLR: Double
  /// Smallest rate at the end (per 256 clips, scaled like the base rate).
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

  /// The end rate: min × batch / 256.
  public var endLR: Double { minLR * Double(batch) / 256 }

  /// The rate at a 0-based step; past the schedule's end, the end rate.
  public func lr(at step: Int) -> Double {
    if step < warmupSteps {
      // np.linspace(0, peak, warmup): a single warmup step is the start value 0.
      return warmupSteps > 1 ? peakLR * Double(step) / Double(warmupSteps - 1) : 0
    }
    let decaySteps = totalSteps - warmupSteps
    guard step < totalSteps, decaySteps > 0 else { return endLR }
    let t = Double(step - warmupSteps) / Double(decaySteps)
    return endLR + 0.5 * (peakLR - endLR) * (1 + cos(Double.pi * t))
  }
}

/// Layer-wise learning-rate decay for fine-tuning, as the authors' `get_num_layer_for_vit`: layer 0
/// is the patch embedding, block i is layer i + 1, and every other name (the stages' temporal and
/// spatial downsampling included, fc_norm, head) is layer L + 1, whose scale is 1; layer k gets
/// decay^(L + 1 − k).
public func layerDecayScales(names: [String], stageDepths: [Int], decay: Double) -> [Double] {
  let top = stageDepths.reduce(0, +) + 1
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
    } else {
      layer = top
    }
    return pow(decay, Double(top - layer))
  }
}
