import Foundation
import SVFAP
import Tensor

/// Replays a training-dynamics fixture (`train_finetune_*`, `train_pretrain_*`: several AdamW steps
/// of the authors' recipe) through our own trainers, and reports what they computed: every
/// parameter after the recorded steps (`after<k>.<name>`), each step's loss (`step<k>.loss`), and
/// rows for the recipe itself (per-step lr and gradient norm, each parameter's lr scale and
/// weight-decay flag).
struct TrainingFixture {
  /// The JSON sidecar.
  let side: [String: Any]
  /// The safetensors file (initial parameters, per-step inputs, labels or masks, references).
  let file: SafeTensorsFile
  /// Float64 for the fp64 fixtures.
  let dtype: DType
  /// Pretraining (masked autoencoding) rather than fine-tuning.
  let pretraining: Bool

  /// What the replay produced.
  struct Outcome {
    /// Computed tensors under the fixture's names.
    var tensors: [String: Tensor] = [:]
    /// The log of every step we ran.
    var log: [StepLog] = []
    /// Our per-parameter lr scale and weight-decay flag, by name.
    var groups: [String: (lrScale: Double, decays: Bool)] = [:]
    /// The reference's per-step records and groups.
    var referenceSteps: [[String: Any]] = []
    var referenceGroups: [String: [String: Any]] = [:]
    var referenceSchedule: [Double] = []

    /// Recipe rows: lr per step, gradient norm before clipping per step, lr scales and decay flags.
    func recipeRows(tolerance: Double) -> [FixtureCheck.Row] {
      func row(_ name: String, _ ours: [Double], _ theirs: [Double], absolute: Bool = false)
        -> FixtureCheck.Row
      {
        let err =
          ours.count == theirs.count ? zip(ours, theirs).map { abs($0 - $1) }.max() ?? 0 : .infinity
        let scale = absolute ? 1 : theirs.map(abs).max() ?? 0
        return FixtureCheck.Row(
          name: name, maxError: err, scale: scale,
          tolerance: tolerance * max(scale, .leastNormalMagnitude), absolute: absolute)
      }
      let names = referenceGroups.keys.sorted()
      let ourScale = names.map { groups[$0]?.lrScale ?? .nan }
      let ourDecay = names.map { groups[$0].map { $0.decays ? 1.0 : 0 } ?? .nan }
      return [
        row("recipe.lr_schedule", log.map(\.lr), referenceSchedule.prefix(log.count).map { $0 }),
        row(
          "recipe.grad_norm_before_clip", log.map(\.gradNorm),
          referenceSteps.map { $0["grad_norm_before_clip"] as? Double ?? .nan }),
        row(
          "param_groups.lr_scale", ourScale,
          names.map { referenceGroups[$0]?["lr_scale"] as? Double ?? .nan }),
        row(
          "param_groups.weight_decay", ourDecay,
          names.map { referenceGroups[$0]?["weight_decay"] as? Bool == true ? 1 : 0 },
          absolute: true),
        row(
          "param_groups.count", [Double(groups.count)], [Double(referenceGroups.count)],
          absolute: true),
      ]
    }
  }

  /// Runs the recorded steps with our trainer.
  func run() throws -> Outcome {
    guard let recipe = side["recipe"] as? [String: Any],
      let steps = side["steps"] as? [[String: Any]],
      let groups = side["param_groups"] as? [String: [String: Any]],
      let schedule = recipe["lr_schedule"] as? [Double]
    else {
      throw SVFAPError.badConfig(
        "training fixture without recipe, steps, param_groups or recipe.lr_schedule")
    }
    let afterSteps = Set(side["after_steps"] as? [Int] ?? [])
    func number(_ key: String) throws -> Double {
      guard let v = recipe[key] as? Double ?? (recipe[key] as? Int).map(Double.init) else {
        throw SVFAPError.badConfig("training fixture recipe lacks '\(key)'")
      }
      return v
    }
    func integer(_ key: String) throws -> Int {
      guard let v = recipe[key] as? Int else {
        throw SVFAPError.badConfig("training fixture recipe lacks integer '\(key)'")
      }
      return v
    }
    let batch = try integer("batch"), perEpoch = try integer("steps_per_epoch")
    let total = try integer("epochs") * perEpoch, warmup = try integer("warmup_epochs") * perEpoch
    var settings = AdamW.Settings()
    if let betas = recipe["betas"] as? [Double], betas.count == 2 {
      (settings.beta1, settings.beta2) = (betas[0], betas[1])
    }
    settings.eps = try number("eps")
    settings.weightDecay = try number("weight_decay")
    let cosine = CosineSchedule(
      baseLR: try number("base_lr_per_256"), minLR: try number("min_lr_per_256"),
      warmupSteps: warmup, totalSteps: total, batch: batch)
    let clip = recipe["clip_grad"] as? Double

    var out = Outcome(referenceSteps: steps, referenceGroups: groups, referenceSchedule: schedule)
    var snapshots: [String: Tensor] = [:]
    let optimizer: AdamW
    let model: Module
    func snapshot(_ log: StepLog) {
      guard afterSteps.contains(log.step) else { return }
      for (name, p) in model.namedParameters() {
        snapshots["after\(log.step).\(name)"] = p.detached().copy()
      }
    }
    var k = 0
    if pretraining {
      let c = try FixtureCheck.pretrainConfig(side)
      let m = try PretrainModel(c, dtype: dtype)
      try FixtureCheck.loadWeights(m, file, prefix: "")
      let t = Pretrainer(model: m, totalSteps: total, batch: batch)
      (model, optimizer) = (m, t.optimizer)
      (t.schedule, t.clipGrad, t.optimizer.settings) = (cosine, clip, settings)
      try t.train(steps: steps.count, progress: snapshot) { _ -> (Tensor, TokenMask)? in
        k += 1
        return (
          try file.tensor("step\(k).input", dtype: dtype),
          try FixtureCheck.loadMask(file, "step\(k).mask", slices: c.timeSlices)
        )
      }
      out.log = t.log
    } else {
      let c = try FixtureCheck.finetuneConfig(side)
      let m = try FinetuneModel(c, dtype: dtype)
      try FixtureCheck.loadWeights(m, file, prefix: "")
      let t = Finetuner(
        model: m, task: .classification(smoothing: try number("label_smoothing")),
        totalSteps: total, batch: batch,
        layerDecay: recipe["layer_decay"] as? Double ?? 1, warmupSteps: warmup)
      (model, optimizer) = (m, t.optimizer)
      (t.schedule, t.clipGrad, t.optimizer.settings) = (cosine, clip, settings)
      try t.train(steps: steps.count, progress: snapshot) { _ -> (Tensor, [[Double]])? in
        k += 1
        let labels = try file.ints("step\(k).labels").values
        return (try file.tensor("step\(k).input", dtype: dtype), labels.map { [Double($0)] })
      }
      out.log = t.log
    }
    for (i, p) in optimizer.parameters.enumerated() {
      out.groups[p.name] = (optimizer.lrScale[i], optimizer.decays[i])
    }
    out.tensors = snapshots
    for entry in out.log {
      out.tensors["step\(entry.step).loss"] = try Tensor([entry.loss], shape: [], dtype: .float64)
    }
    return out
  }
}
