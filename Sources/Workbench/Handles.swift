import Foundation
import SVFAP
import Script
import Tensor

/// A model in the session: the pretraining autoencoder or a fine-tuning model, each with its
/// training run once one has started, and the preset it was built from.
public final class ModelHandle: ScriptHandle, ScriptFieldAccess {
  /// What the handle holds: a model and, once trained in this session, its run.
  public enum State {
    /// The masked autoencoder and its pretraining run.
    case pretraining(PretrainModel, run: Pretrainer?)
    /// The fine-tuning model and its run.
    case finetuning(FinetuneModel, run: Finetuner?)
  }

  /// The preset it was built from.
  public let preset: String
  /// The model and its run.
  public var state: State

  init(preset: String, _ state: State) { (self.preset, self.state) = (preset, state) }

  /// What the model is for.
  public var task: ModelTask {
    if case .pretraining = state { return .pretrain }
    return .finetune
  }
  /// The module (for checkpoints).
  public var module: Module {
    switch state {
    case .pretraining(let m, _): return m
    case .finetuning(let m, _): return m
    }
  }
  /// The architecture.
  public var config: SVFAPConfig {
    switch state {
    case .pretraining(let m, _): return m.config
    case .finetuning(let m, _): return m.config
    }
  }
  /// The name of the model's run in figures: `given`, else its log file's stem, else the preset.
  func runName(_ given: String? = nil) -> String {
    given ?? run?.logPath.map(fileStem) ?? preset
  }

  /// Whichever training run the model has.
  public var run: TrainingRun? {
    switch state {
    case .pretraining(_, let r): return r
    case .finetuning(_, let r): return r
    }
  }
  /// The pretraining model and its run, or an error for the command saying one is needed.
  func pretraining(for a: Arguments) throws -> (PretrainModel, Pretrainer?) {
    guard case .pretraining(let m, let r) = state else {
      throw a.error("the model is a fine-tuning model; build one with task: \"pretrain\"")
    }
    return (m, r)
  }

  /// The fine-tuning model and its run, or an error for the command saying one is needed.
  func finetuning(for a: Arguments) throws -> (FinetuneModel, Finetuner?) {
    guard case .finetuning(let m, let r) = state else {
      throw a.error(
        """
        the model is a pretraining model; needs a fine-tuning model (task: \"finetune\"; load \
        pretrained weights with checkpoint)
        """
      )
    }
    return (m, r)
  }

  public var typeName: String { "model" }
  public var summary: String {
    let model = String(
      format: "%@ %@, %.2f M parameters, C %d, stages %@", preset, task.rawValue,
      Double(module.parameterCount) / 1e6, config.dim,
      config.stageDepths.map(String.init).joined(separator: "/"))
    let forward = config.variant.map { ", the \($0.rawValue) forward (SPEC's known defects)" } ?? ""
    return model + forward + "; " + runSummary
  }

  /// Where the weights came from when not from training in this session: pretrained weights or
  /// a checkpoint file (nil: the seed's random initialization).
  public var weightsFrom: String?
  /// The model card of the checkpoint the weights came from, if it had one (saving the weights
  /// again with a card keeps its steps and final loss).
  public var weightsCard: ModelCard?

  /// The model's state in a few words, as figures and `print` name it: its step and last loss, or
  /// the weights it was given, or "untrained".
  var provenance: String {
    let source = weightsFrom.map { "weights from \($0)" }
    guard let run, run.step > 0 else { return source ?? "untrained (random weights)" }
    let loss = run.log.last.map { ", loss \(Value.format(($0.loss * 1e4).rounded() / 1e4))" } ?? ""
    return "step \(run.step)\(loss)" + (source.map { " (\($0))" } ?? "")
  }

  /// How figures name the model: its preset and provenance ("svfap-tiny, step 400, loss 0.2113").
  var figureName: String {
    let forward = config.variant.map { " (the authors' \($0.rawValue) forward)" } ?? ""
    return "\(preset)\(forward), \(provenance)"
  }

  /// The model's run in a few words: its provenance and, once trained, its schedule.
  var runSummary: String {
    guard let run, run.step > 0 else { return provenance }
    let s = run.settings.schedule
    return
      "\(provenance), \(s.totalSteps)-step schedule, peak lr \(Value.format(s.peakLR)), lr now \(Value.format(s.lr(at: run.step)))"
  }

  public var fieldNames: [String] {
    [
      "preset", "task", "params", "dim", "heads", "stages", "frames", "size", "step", "losses",
      "schedule", "card",
    ]
  }
  public func field(_ name: String) -> Value? {
    switch name {
    case "preset": return .string(preset)
    case "task": return .string(task.rawValue)
    case "params": return .number(Double(module.parameterCount))
    case "dim": return .number(Double(config.dim))
    case "heads": return .number(Double(config.heads))
    case "stages": return .list(config.stageDepths.map { .number(Double($0)) })
    case "frames": return .number(Double(config.frames))
    case "size": return .number(Double(config.imgSize))
    case "step": return .number(Double(run?.step ?? 0))
    case "losses": return .list((run?.log ?? []).map { .number($0.loss) })
    case "card":  // the card of the file the weights came from
      guard let c = weightsCard else { return .nilValue }
      return .record(
        Record([
          ("steps", .number(Double(c.steps))),
          ("final_loss", c.finalLoss.map { .number($0) } ?? .nilValue),
          ("data", .string(c.data)), ("script", .string(c.script)),
          ("crop", c.crop.map { .string($0.rawValue) } ?? .nilValue),
        ]))
    case "schedule":
      guard let s = run?.schedule else { return .nilValue }
      return .record(
        Record([
          ("base_lr", .number(s.baseLR)), ("peak_lr", .number(s.peakLR)),
          ("warmup", .number(Double(s.warmupSteps))),
          ("total", .number(Double(s.totalSteps))), ("batch", .number(Double(s.batch))),
          ("lr", .number(s.lr(at: run?.step ?? 0))),
        ]))
    default: return nil
    }
  }
}

/// A mask recipe (kind, ratio, seed), turned into a `TokenMask` for a model's token grid when used.
public final class MaskHandle: ScriptHandle, ScriptFieldAccess {
  /// Tube or random.
  public let kind: MaskKind
  /// Fraction of spatial positions hidden.
  public let ratio: Double
  /// Seed of the pattern.
  public let seed: UInt64

  init(kind: MaskKind, ratio: Double, seed: UInt64) {
    self.kind = kind
    self.ratio = ratio
    self.seed = seed
  }

  /// The token mask for `batch` clips of a model.
  public func realize(batch: Int, config c: SVFAPConfig) throws -> TokenMask {
    var rng = SplitMix64(seed: seed)
    switch kind {
    case .tube:
      return try TokenMask.tube(
        batch: batch, slices: c.timeSlices, perSlice: c.tokensPerSlice, ratio: ratio, rng: &rng)
    case .random:
      return try TokenMask.random(
        batch: batch, slices: c.timeSlices, perSlice: c.tokensPerSlice, ratio: ratio, rng: &rng)
    }
  }

  public var typeName: String { "mask" }
  public var summary: String { "\(kind.rawValue) mask, ratio \(Value.format(ratio)), seed \(seed)" }
  public var fieldNames: [String] { ["kind", "ratio", "seed"] }
  public func field(_ name: String) -> Value? {
    switch name {
    case "kind": return .string(kind.rawValue)
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
    return
      "\(kind) \(tensor.shape) \(tensor.dtype), mean \(Value.format((mean * 1e4).rounded() / 1e4))"
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
