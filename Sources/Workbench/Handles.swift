import Foundation
import SVFAP
import Script
import Tensor

/// A model in the session: the pretraining autoencoder or a fine-tuning model, with its preset name.
public final class ModelHandle: ScriptHandle, ScriptFieldAccess {
  /// The preset it was built from.
  public let preset: String
  /// "pretrain" or "finetune".
  public let task: String
  /// The pretraining model, when task is pretrain.
  public let pretrain: PretrainModel?
  /// The fine-tuning model, when task is finetune.
  public let finetune: FinetuneModel?
  /// The pretraining state (optimizer, schedule, log) once `train` has run.
  public var trainer: Pretrainer?
  /// The fine-tuning state (optimizer, schedule, log) once `finetune` has run.
  public var finetuner: Finetuner?
  /// Whichever training run the model has.
  public var run: TrainingRun? { trainer ?? finetuner }

  /// The module (for checkpoints): whichever model the handle holds.
  public let module: Module
  /// The architecture.
  public let config: SVFAPConfig

  init(preset: String, pretrain: PretrainModel) {
    (self.preset, task, self.pretrain, finetune) = (preset, "pretrain", pretrain, nil)
    (module, config) = (pretrain, pretrain.config)
  }

  init(preset: String, finetune: FinetuneModel) {
    (self.preset, task, pretrain, self.finetune) = (preset, "finetune", nil, finetune)
    (module, config) = (finetune, finetune.config)
  }

  /// The fine-tuning model, or an error for `command` saying a fine-tuning model is needed.
  func finetuneModel(for a: Arguments) throws -> FinetuneModel {
    guard let f = finetune else {
      throw ScriptError(.runtime, "\(a.command): needs a fine-tuning model (task: \"finetune\"; load pretrained weights with checkpoint)", at: a.location)
    }
    return f
  }

  public var typeName: String { "model" }
  public var summary: String {
    String(
      format: "%@ %@, %.2f M parameters, C %d, stages %@", preset, task, Double(module.parameterCount) / 1e6, config.dim,
      config.stageDepths.map(String.init).joined(separator: "/"))
  }
  public var fieldNames: [String] { ["preset", "task", "params", "dim", "heads", "stages", "frames", "size", "step", "losses", "schedule"] }
  public func field(_ name: String) -> Value? {
    switch name {
    case "preset": return .string(preset)
    case "task": return .string(task)
    case "params": return .number(Double(module.parameterCount))
    case "dim": return .number(Double(config.dim))
    case "heads": return .number(Double(config.heads))
    case "stages": return .list(config.stageDepths.map { .number(Double($0)) })
    case "frames": return .number(Double(config.frames))
    case "size": return .number(Double(config.imgSize))
    case "step": return .number(Double(run?.step ?? 0))
    case "losses": return .list((run?.log ?? []).map { .number($0.loss) })
    case "schedule":
      guard let s = trainer?.schedule ?? finetuner?.schedule else { return .nilValue }
      return .record(
        Record([
          ("base_lr", .number(s.baseLR)), ("peak_lr", .number(s.peakLR)), ("warmup", .number(Double(s.warmupSteps))),
          ("total", .number(Double(s.totalSteps))), ("batch", .number(Double(s.batch))), ("lr", .number(s.lr(at: run?.step ?? 0))),
        ]))
    default: return nil
    }
  }
}

/// A mask recipe (kind, ratio, seed), turned into a `TokenMask` for a model's token grid when used.
public final class MaskHandle: ScriptHandle, ScriptFieldAccess {
  /// "tube" or "random".
  public let kind: String
  /// Fraction of spatial positions hidden.
  public let ratio: Double
  /// Seed of the pattern.
  public let seed: UInt64

  init(kind: String, ratio: Double, seed: UInt64) {
    self.kind = kind
    self.ratio = ratio
    self.seed = seed
  }

  /// The token mask for `batch` clips of a model.
  public func realize(batch: Int, config c: SVFAPConfig) throws -> TokenMask {
    var rng = SplitMix64(seed: seed)
    if kind == "tube" {
      return try TokenMask.tube(batch: batch, slices: c.timeSlices, perSlice: c.tokensPerSlice, ratio: ratio, rng: &rng)
    }
    return try TokenMask.random(batch: batch, slices: c.timeSlices, perSlice: c.tokensPerSlice, ratio: ratio, rng: &rng)
  }

  public var typeName: String { "mask" }
  public var summary: String { "\(kind) mask, ratio \(Value.format(ratio)), seed \(seed)" }
  public var fieldNames: [String] { ["kind", "ratio", "seed"] }
  public func field(_ name: String) -> Value? {
    switch name {
    case "kind": return .string(kind)
    case "ratio": return .number(ratio)
    case "seed": return .number(Double(seed))
    default: return nil
    }
  }
}

/// A tensor in the session (a clip batch (B, 3, T, H, W), predictions, features).
public class TensorHandle: ScriptHandle, ScriptFieldAccess {
  /// The tensor.
  public let tensor: Tensor
  /// What it is ("clip", "prediction", …).
  public let kind: String

  init(_ tensor: Tensor, kind: String) {
    self.tensor = tensor
    self.kind = kind
  }

  public var typeName: String { kind == "clip" ? "clip" : "tensor" }
  public var summary: String { tensorSummary }
  var tensorSummary: String {
    let v = tensor.toDoubles()
    let mean = v.isEmpty ? 0 : v.reduce(0, +) / Double(v.count)
    return "\(kind) \(tensor.shape) \(tensor.dtype), mean \(Value.format((mean * 1e4).rounded() / 1e4))"
  }
  public var fieldNames: [String] { ["shape", "count", "mean"] }
  public func field(_ name: String) -> Value? {
    switch name {
    case "shape": return .list(tensor.shape.map { .number(Double($0)) })
    case "count": return .number(Double(tensor.count))
    case "mean":
      let v = tensor.toDoubles()
      return .number(v.isEmpty ? 0 : v.reduce(0, +) / Double(v.count))
    default: return nil
    }
  }
}
