import Foundation
import SVFAP
import Script
import Tensor

/// `model`: a model from a preset.
struct BuildModel: SessionCommand {
  unowned let session: Session
  let declaration = CommandDeclaration(
    "model", topic: "model",
    summary:
      """
      Build a model from a preset (\(SVFAPConfig.presetNames.joined(separator: ", "))), or \
      from: a checkpoint whose architecture is inferred from its keys and shapes (printed) and \
      whose weights are loaded.
      """,
    params: [
      .positional("preset", .string, "the preset name (or give from:)", default: .string("")),
      .option(
        "from", .string,
        """
        a .safetensors or .pth checkpoint: its architecture (as recorded in our files, else \
        inferred from its keys and shapes) built and its weights loaded
        """,
        default: .nilValue),
      .option(
        "assume", .bool,
        """
        with from: a checkpoint that matches no preset and records no architecture: build it \
        with the heads (64 wide), frames and size assumed
        """,
        default: .bool(false)),
      .choice(
        "task", ModelTask.self,
        "the masked autoencoder (pretrain) or the classifier/regressor (finetune)",
        default: .pretrain),
      .option("classes", .integer, "fine-tuning outputs", default: .number(7)).within(
        Limits.classes),
      .choice(
        "activation", HeadActivation.self, "fine-tuning head activation (default: none)",
        default: nil),
      .option("seed", .integer, "seed of the initial weights", default: .nilValue).within(
        Limits.seed),
      .option(
        "pretrained", .bool,
        "load the shipped pretrained weights (models/PRESET-pretrained.safetensors; its card must match)",
        default: .bool(false)),
      .option(
        "drop_path", .number,
        """
        stochastic-depth rate, rising linearly over the encoder's blocks (default: 0.1 \
        fine-tuning, 0 pretraining, as the authors)
        """,
        default: .nilValue
      ).within(Limits.fraction),
      .choice(
        "variant", ModelVariant.self,
        """
        pretraining forward: the paper's (default), or the authors' released code with its \
        defects (released; released-context-fixed), to run their checkpoint as it was trained
        """,
        default: nil),
      .choice(
        "dtype", Precision.self,
        """
        parameter precision: float32, or float64 for exact cross-checks (training converts the \
        clips)
        """,
        default: .float32),
    ],
    returns: "model", example: "m = model \"svfap-tiny\" task: \"pretrain\" seed: 1")

  func run(_ a: Arguments, in interp: Interpreter) throws -> Value {
    var preset = try a.string("preset"), task = try a.choice("task", as: ModelTask.self)
    var cfg: SVFAPConfig
    var weights: (path: String, tensors: [String: Tensor])?
    if let from = try a.stringIfGiven("from") {
      guard preset.isEmpty else {
        throw a.error("give a preset or from:, not both (from: infers the architecture)")
      }
      let path = session.resolve(from)
      let tensors = try a.located { try Checkpoint.readTensors(path) }
      let found = try a.located { try CheckpointArchitecture.infer(tensors) }
      let file = (path as NSString).lastPathComponent
      if var recorded = RecordedConfig.read(path) {
        // Our own files say what they are, heads and forward included.
        if found.task == .finetune { recorded.numClasses = found.config.numClasses }
        cfg = recorded
        interp.output(
          """
          read from \(file): \(found.task == .pretrain ? "pretraining" : "fine-tuning") model, C \
          \(cfg.dim), stages \(cfg.stageDepths.map(String.init).joined(separator: "/")), \
          \(cfg.heads) heads, \(cfg.frames) frames of \(cfg.imgSize) px, \
          \(RecordedConfig.forwardName(found.task == .pretrain ? cfg.variant : nil)) (recorded in \
          the file)
          """)
      } else {
        if found.preset == nil, !(try a.bool("assume")), let closest = found.closest {
          throw a.error(
            """
            no preset matches \(file): it holds a \(found.description); the closest preset, \
            \(closest.preset), differs in \(closest.differences.joined(separator: ", ")) (preset \
            ≠ file). Heads, frames and size are not in the weights: add assume: true to build it \
            with \(found.config.heads) heads, \(found.config.frames) frames of \
            \(found.config.imgSize) px
            """)
        }
        interp.output("inferred from \(file): \(found.description)")
        cfg = found.config
      }
      preset = found.preset ?? cfg.presetName ?? "inferred"
      if !a.wasGiven("task") { task = found.task }
      weights = (path, tensors)
    } else {
      guard !preset.isEmpty else {
        throw a.error(
          "name a preset (\(SVFAPConfig.presetNames.joined(separator: ", "))) or give from: a checkpoint"
        )
      }
      cfg = try a.located { try SVFAPConfig.preset(preset) }
    }
    cfg.dropPath =
      try a.numberIfGiven("drop_path") ?? (task == .finetune ? SVFAPConfig.finetuneDropPath : 0)
    if let variant = try a.choiceIfGiven("variant", as: ModelVariant.self) {
      guard task == .pretrain else {
        throw a.error(
          "variant: \"\(variant.rawValue)\" is a pretraining forward; a fine-tuning model has one")
      }
      cfg.variant = variant
    }
    if task == .finetune { cfg.variant = nil }  // the released preset's encoder fine-tunes as any
    let seed = a.has("seed") ? try a.seed("seed") : session.nextSeed()
    let dtype = try a.choice("dtype", as: Precision.self).dtype
    let handle: ModelHandle
    switch task {
    case .pretrain:
      let m = try a.located { try PretrainModel(cfg, dtype: dtype, seed: seed) }
      handle = ModelHandle(preset: preset, .pretraining(m, run: nil))
    case .finetune:
      cfg.numClasses = try a.int("classes")
      cfg.headActivation = try a.choiceIfGiven("activation", as: HeadActivation.self)
      let m = try a.located { try FinetuneModel(cfg, dtype: dtype, seed: seed) }
      handle = ModelHandle(preset: preset, .finetuning(m, run: nil))
    }
    if let weights {
      let report = try a.located { try Checkpoint.load(weights.tensors, into: handle.module) }
      interp.output(report.description)
      handle.weightsFrom = (weights.path as NSString).lastPathComponent
    }
    if try a.bool("pretrained") {
      let (report, card) = try PretrainedWeights.load(
        preset: preset, config: cfg, into: handle.module, a)
      interp.output("pretrained weights: \(report)")
      (handle.weightsFrom, handle.weightsCard) = ("the pretrained \(preset)", card)
    }
    return .handle(handle)
  }
}

/// `flops`: parameters and GFLOPs as the paper counts them.
struct CountFLOPs: ScriptCommand {
  let declaration = CommandDeclaration(
    "flops", topic: "model",
    summary: "Parameters (M) and GFLOPs of one clip, counted as the paper counts.",
    params: [
      .positional("model", .any, "a model or a preset name"),
      .choice("task", ModelTask.self, "for a preset name: the model to count", default: .finetune),
      .option("mask_ratio", .number, "mask ratio for pretraining", default: .number(0.9)).within(
        Limits.fraction),
    ],
    returns: "record {params_m, gflops}",
    example: "flops \"svfap-base\" task: \"pretrain\" mask_ratio: 0.75")

  func run(_ a: Arguments, in interp: Interpreter) throws -> Value {
    let cfg: SVFAPConfig, task: ModelTask
    switch a["model"] {
    case .handle(let h as ModelHandle): (cfg, task) = (h.config, h.task)
    case .string(let p):
      (cfg, task) = (
        try a.located { try SVFAPConfig.preset(p) }, try a.choice("task", as: ModelTask.self)
      )
    default: throw a.error("expected a model or a preset name")
    }
    let params = try a.located {
      task == .pretrain
        ? try PretrainModel(cfg).parameterCount : try FinetuneModel(cfg).parameterCount
    }
    let g =
      task == .pretrain
      ? FLOPs.pretrain(cfg, maskRatio: try a.number("mask_ratio")) : FLOPs.finetune(cfg)
    return .record(
      Record([
        ("params_m", .number((Double(params) / 1e4).rounded() / 100)),
        ("gflops", .number((g / 1e7).rounded() / 100)),
      ]))
  }
}

/// `tube` and `random`: mask recipes.
struct MakeMask: SessionCommand {
  unowned let session: Session
  let kind: MaskKind
  var declaration: CommandDeclaration {
    CommandDeclaration(
      kind.rawValue, topic: "model",
      summary: kind == .tube
        ? "A tube mask: one random spatial pattern per clip, the same in every time slice."
        : "A random mask: an independent pattern in each time slice (same count per slice).",
      params: [
        .positional("ratio", .number, "fraction of spatial positions hidden", default: .number(0.9))
          .within(Limits.fraction),
        .option(
          "seed", .integer, "seed of the pattern (default: the session's next seed)",
          default: .nilValue
        ).within(Limits.seed),
      ],
      returns: "mask", example: "mask = \(kind.rawValue)(0.9, seed: 2)")
  }

  func run(_ a: Arguments, in interp: Interpreter) throws -> Value {
    .handle(
      MaskHandle(
        kind: kind, ratio: try a.number("ratio"),
        seed: a.has("seed") ? try a.seed("seed") : session.nextSeed()))
  }
}

/// `noise_clip`: random normalized clips.
struct NoiseClip: SessionCommand {
  unowned let session: Session
  let declaration = CommandDeclaration(
    "noise_clip", topic: "model",
    summary:
      "A batch of random normalized clips (B, 3, T, H, W), for trying models before loading video.",
    params: [
      .option("batch", .integer, "clips", default: .number(1)).within(1...64),
      .option("frames", .integer, "frames per clip", default: .number(16)).within(1...512),
      .option("size", .integer, "height and width", default: .number(160)).within(
        Limits.size.lowerBound...1024),
      .option("seed", .integer, "seed (default: the session's next seed)", default: .nilValue)
        .within(Limits.seed),
    ],
    returns: "clip", example: "clip = noise_clip(batch: 2)")

  func run(_ a: Arguments, in interp: Interpreter) throws -> Value {
    let (b, t, s) = (try a.int("batch"), try a.int("frames"), try a.int("size"))
    try Limits.checkClip([b, 3, t, s, s], a)
    var rng = SplitMix64(seed: a.has("seed") ? try a.seed("seed") : session.nextSeed())
    return .handle(TensorHandle(Tensor.randn([b, 3, t, s, s], rng: &rng), kind: "clip"))
  }
}
