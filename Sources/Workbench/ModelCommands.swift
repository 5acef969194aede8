import Foundation
import SVFAP
import Script
import Tensor

/// Commands that bind the language to the model layer (topic "model").
enum ModelCommands {
  static func register(into i: Interpreter, session: Session) {
    let presets = SVFAPConfig.presetNames.joined(separator: ", ")
    i.register(
      Command(
        "model", topic: "model", summary: "Build a model from a preset (\(presets)).",
        params: [
          .positional("preset", .string, "the preset name"),
          .option("task", .string, "\"pretrain\" (masked autoencoder) or \"finetune\" (classifier/regressor)", default: .string("pretrain")),
          .option("classes", .integer, "fine-tuning outputs", default: .number(7)).within(Limits.classes),
          .option("activation", .string, "fine-tuning head activation: sigmoid, tanh, relu", default: .nilValue),
          .option("seed", .integer, "seed of the initial weights", default: .nilValue).within(Limits.seed),
          .option(
            "drop_path", .number, "stochastic-depth rate, rising linearly over the encoder's blocks (default: 0.1 fine-tuning, 0 pretraining, as the authors)",
            default: .nilValue
          ).within(Limits.fraction),
        ],
        returns: "model", example: "m = model \"svfap-tiny\" task: \"pretrain\" seed: 1"
      ) { [unowned session] a, _ in
        var cfg = try SVFAPConfig.preset(try a.string("preset"))
        let finetuning = try a.string("task") == "finetune"
        cfg.dropPath = a.has("drop_path") ? try a.number("drop_path") : (finetuning ? SVFAPConfig.finetuneDropPath : 0)
        let seed = a.has("seed") ? try a.seed("seed") : session.nextSeed()
        switch try a.string("task") {
        case "pretrain": return .handle(ModelHandle(preset: try a.string("preset"), pretrain: try PretrainModel(cfg, seed: seed)))
        case "finetune":
          cfg.numClasses = try a.int("classes")
          if a.has("activation") { cfg.headActivation = try a.string("activation") }
          return .handle(ModelHandle(preset: try a.string("preset"), finetune: try FinetuneModel(cfg, seed: seed)))
        case let t: throw ScriptError(.runtime, "model: task must be \"pretrain\" or \"finetune\", not \"\(t)\"", at: a.location)
        }
      })
    i.register(
      Command(
        "flops", topic: "model", summary: "Parameters (M) and GFLOPs of one clip, counted as the paper counts.",
        params: [
          .positional("model", .any, "a model or a preset name"),
          .option("task", .string, "\"finetune\" or \"pretrain\" (for a preset name)", default: .string("finetune")),
          .option("mask_ratio", .number, "mask ratio for pretraining", default: .number(0.9)).within(Limits.fraction),
        ],
        returns: "record {params_m, gflops}", example: "flops \"svfap-base\" task: \"pretrain\" mask_ratio: 0.75"
      ) { a, _ in
        let cfg: SVFAPConfig, task: String
        switch a["model"] {
        case .handle(let h as ModelHandle): (cfg, task) = (h.config, h.task)
        case .string(let p): (cfg, task) = (try SVFAPConfig.preset(p), try a.string("task"))
        default: throw ScriptError(.runtime, "flops: expected a model or a preset name", at: a.location)
        }
        let params = task == "pretrain" ? try PretrainModel(cfg).parameterCount : try FinetuneModel(cfg).parameterCount
        let g = task == "pretrain" ? FLOPs.pretrain(cfg, maskRatio: try a.number("mask_ratio")) : FLOPs.finetune(cfg)
        return .record(Record([("params_m", .number((Double(params) / 1e4).rounded() / 100)), ("gflops", .number((g / 1e7).rounded() / 100))]))
      })
    for kind in ["tube", "random"] {
      i.register(
        Command(
          kind, topic: "model",
          summary: kind == "tube"
            ? "A tube mask: one random spatial pattern per clip, the same in every time slice."
            : "A random mask: an independent pattern in each time slice (same count per slice).",
          params: [
            .positional("ratio", .number, "fraction of spatial positions hidden", default: .number(0.9)).within(Limits.fraction),
            .option("seed", .integer, "seed of the pattern (default: the session's next seed)", default: .nilValue).within(Limits.seed),
          ],
          returns: "mask", example: "mask = \(kind)(0.9, seed: 2)"
        ) { [unowned session] a, _ in
          let r = try a.number("ratio")
          guard r >= 0 && r < 1 else { throw ScriptError(.runtime, "\(kind): ratio must be in [0, 1), got \(Value.format(r))", at: a.location) }
          return .handle(MaskHandle(kind: kind, ratio: r, seed: a.has("seed") ? try a.seed("seed") : session.nextSeed()))
        })
    }
    i.register(
      Command(
        "noise_clip", topic: "model", summary: "A batch of random normalized clips (B, 3, T, H, W), for trying models before loading video.",
        params: [
          .option("batch", .integer, "clips", default: .number(1)).within(Limits.batch),
          .option("frames", .integer, "frames per clip", default: .number(16)).within(Limits.frames),
          .option("size", .integer, "height and width", default: .number(160)).within(Limits.size),
          .option("seed", .integer, "seed (default: the session's next seed)", default: .nilValue).within(Limits.seed),
        ],
        returns: "clip", example: "clip = noise_clip(batch: 2)"
      ) { [unowned session] a, _ in
        let (b, t, s) = (try a.int("batch"), try a.int("frames"), try a.int("size"))
        try Limits.checkClip([b, 3, t, s, s], a)
        guard (1...64).contains(b), (1...512).contains(t), (1...1024).contains(s) else {
          throw ScriptError(.runtime, "noise_clip: batch 1...64, frames 1...512, size 1...1024", at: a.location)
        }
        var rng = SplitMix64(seed: a.has("seed") ? try a.seed("seed") : session.nextSeed())
        return .handle(TensorHandle(Tensor.randn([b, 3, t, s, s], rng: &rng), kind: "clip"))
      })
    i.register(
      Command(
        "loss", topic: "model", summary: "The pretraining loss (MSE on normalized pixels of the masked tubelets) of a model on clips.",
        params: [
          .positional("model", .handle("model"), "a pretraining model"), .positional("clip", .handle("clip"), "clips (B, 3, T, H, W)"),
          .option("mask", .handle("mask"), "the mask", default: .nilValue),
        ],
        returns: "number", example: "loss m clip mask: tube(0.9, seed: 2)"
      ) { [unowned session] a, _ in
        let (m, clip) = (try a.handle("model", as: ModelHandle.self), try a.handle("clip", as: TensorHandle.self))
        guard let model = m.pretrain else {
          throw ScriptError(.runtime, "loss: the model is a fine-tuning model; build one with task: \"pretrain\"", at: a.location)
        }
        let spec = a.has("mask") ? try a.handle("mask", as: MaskHandle.self) : MaskHandle(kind: "tube", ratio: 0.9, seed: session.nextSeed())
        let mask = try spec.realize(batch: clip.tensor.shape.first ?? 1, config: m.config)
        return .number(try withNoGrad { try model.loss(clip.tensor, mask: mask).loss.item() })
      })
    i.register(
      Command(
        "reconstruct", topic: "model",
        summary: "Run the masked autoencoder on clips: predictions of the masked tubelets (normalized-pixel target space), the targets and the loss.",
        params: [
          .positional("model", .handle("model"), "a pretraining model"), .positional("clip", .handle("clip"), "clips (B, 3, T, H, W)"),
          .option("mask", .handle("mask"), "the mask (default: tube 0.9 with the session's next seed)", default: .nilValue),
        ],
        returns: "record {loss, prediction, target, mask, clip, model}", example: "r = reconstruct(m, clip, mask: tube(0.9, seed: 2))"
      ) { [unowned session] a, _ in
        let (m, clip) = (try a.handle("model", as: ModelHandle.self), try a.handle("clip", as: TensorHandle.self))
        guard let model = m.pretrain else {
          throw ScriptError(.runtime, "reconstruct: the model is a fine-tuning model; build one with task: \"pretrain\"", at: a.location)
        }
        let spec = a.has("mask") ? try a.handle("mask", as: MaskHandle.self) : MaskHandle(kind: "tube", ratio: 0.9, seed: session.nextSeed())
        let mask = try spec.realize(batch: clip.tensor.shape.first ?? 1, config: m.config)
        let (loss, output, target) = try withNoGrad { try model.loss(clip.tensor, mask: mask) }
        return .record(
          Record([
            ("loss", .number(try loss.item())), ("prediction", .handle(TensorHandle(output, kind: "prediction"))),
            ("target", .handle(TensorHandle(target, kind: "target"))), ("mask", .handle(spec)), ("clip", .handle(clip)), ("model", .handle(m)),
          ]))
      })
    i.register(
      Command(
        "predict", topic: "model", summary: "Outputs of a fine-tuning model on clips: one list per clip.",
        params: [.positional("model", .handle("model"), "a fine-tuning model"), .positional("clip", .handle("clip"), "clips (B, 3, T, H, W)")],
        returns: "list", example: "predict m clip"
      ) { a, _ in
        let (m, clip) = (try a.handle("model", as: ModelHandle.self), try a.handle("clip", as: TensorHandle.self))
        guard let model = m.finetune else {
          throw ScriptError(.runtime, "predict: the model is a pretraining model; build one with task: \"finetune\"", at: a.location)
        }
        model.train(false)
        let y = try withNoGrad { try model(clip.tensor) }
        let (b, k) = (y.shape[0], y.shape[1])
        let v = y.toDoubles()
        return .list((0..<b).map { r in .list((0..<k).map { .number(v[r * k + $0]) }) })
      })
    i.register(
      Command(
        "save", topic: "model", summary: "Write a model's weights as safetensors (PyTorch state_dict names), atomically.",
        params: [.positional("model", .handle("model"), "the model"), .positional("path", .string, "output file (.safetensors)")],
        example: "save m \"runs/tiny.safetensors\""
      ) { [unowned session] a, interp in
        let m = try a.handle("model", as: ModelHandle.self)
        let path = session.resolve(try a.string("path"))
        do { try Checkpoint.save(m.module, config: m.config, to: path) } catch { throw ScriptError(.io, "save: \(error)", at: a.location) }
        interp.output("saved \(m.module.namedParameters().count) tensors to \(path)")
        return .nilValue
      })
    i.register(
      Command(
        "checkpoint", topic: "model",
        summary: "Load weights into a model from .safetensors or the authors' .pth (restricted unpickler); reports new and unused tensors.",
        params: [.positional("model", .handle("model"), "the model"), .positional("path", .string, "a .safetensors or .pth file")],
        returns: "record {loaded, new, unused}", example: "checkpoint m \"pretrained.pth\""
      ) { [unowned session] a, interp in
        let m = try a.handle("model", as: ModelHandle.self)
        let path = session.resolve(try a.string("path"))
        guard FileManager.default.fileExists(atPath: path) else { throw ScriptError(.io, "checkpoint: no file '\(path)'", at: a.location) }
        let report = try Checkpoint.load(try Checkpoint.readTensors(path), into: m.module)
        interp.output(report.description)
        return .record(
          Record([
            ("loaded", .number(Double(report.loaded.count))), ("new", .list(report.new.map { .string($0) })),
            ("unused", .list(report.unused.map { .string($0) })),
          ]))
      })
    i.register(
      Command(
        "inspect_checkpoint", topic: "model",
        summary:
          "List what a .safetensors or the authors' .pth file holds (tensors, parameter count, other entries such as the training arguments), read without running code.",
        params: [.positional("path", .string, "a .pth or .safetensors file")], returns: "record {tensors, parameters, names, extras}",
        example: "inspect_checkpoint \"pretrained.pth\""
      ) { [unowned session] a, _ in
        let path = session.resolve(try a.string("path"))
        guard FileManager.default.fileExists(atPath: path) else { throw ScriptError(.io, "inspect_checkpoint: no file '\(path)'", at: a.location) }
        var extras: [(String, Value)] = []
        let tensors: [String: Tensor]
        if path.hasSuffix(".pth") || path.hasSuffix(".pt") {
          let c = try TorchCheckpoint(path: path)
          tensors = c.tensors
          for (k, v) in c.extras.sorted(by: { $0.key < $1.key }) { extras.append((k, .string(String(v.description.prefix(300))))) }
        } else {
          tensors = try Checkpoint.readTensors(path)
        }
        return .record(
          Record([
            ("tensors", .number(Double(tensors.count))), ("parameters", .number(Double(tensors.values.reduce(0) { $0 + $1.count }))),
            ("names", .list(tensors.keys.sorted().prefix(8).map { .string($0) })), ("extras", .record(Record(extras))),
          ]))
      })
    i.register(
      Command(
        "check_fixture", topic: "model", summary: "Recompute a golden fixture of the authors' PyTorch code and compare every tensor.",
        params: [.positional("path", .string, "a fixture .safetensors file")], returns: "record {ok, tensors, worst}",
        example: "check_fixture \"Tests/Fixtures/unit_block_fp32.safetensors\""
      ) { [unowned session] a, _ in
        let r = try FixtureCheck.check(path: session.resolve(try a.string("path")))
        if let why = r.unsupported { return .record(Record([("ok", .bool(false)), ("unsupported", .string(why))])) }
        let worst = r.rows.map { $0.maxError / max($0.scale, 1e-300) }.max() ?? 0
        return .record(Record([("ok", .bool(r.ok)), ("tensors", .number(Double(r.rows.count))), ("worst", .number(worst))]))
      })
    i.register(
      Command(
        "bench", topic: "model", summary: "Time a model step on random clips (as `svfap bench model`).",
        params: [
          .positional("preset", .string, "a preset name"), .option("task", .string, "finetune or pretrain", default: .string("pretrain")),
          .option("mode", .string, "forward or train", default: .string("train")),
          .option("batch", .integer, "clips per step", default: .number(1)).within(Limits.batch),
          .option("runs", .integer, "timed steps", default: .number(3)).within(1...1000),
        ],
        returns: "record {median_ms, min_ms, gflop_per_s, peak_rss_mb}", example: "bench \"svfap-tiny\" batch: 4"
      ) { a, _ in
        let r = try ModelBenchmark.run(
          preset: try a.string("preset"), task: try a.string("task"), mode: try a.string("mode"), batch: try a.int("batch"),
          threads: Threads.count, runs: try a.int("runs"))
        return .record(
          Record([
            ("median_ms", .number(r.medianMs)), ("min_ms", .number(r.minMs)), ("gflop_per_s", .number(r.gflopPerSecond)), ("peak_rss_mb", .number(r.peakRssMB)),
          ]))
      })
    i.register(
      Command(
        "seed", topic: "session", summary: "Set the session's seed: later masks, clips and models without an explicit seed repeat.",
        params: [.positional("value", .integer, "the seed").within(Limits.seed)], example: "seed 42"
      ) { [unowned session] a, _ in
        session.seed(try a.seed("value"))
        return .nilValue
      })
    i.register(
      Command(
        "set", topic: "session", summary: "Change session settings.",
        params: [
          .option("threads", .integer, "threads for BLAS and kernels", default: .nilValue).within(Limits.threads),
          .option("autosave", .bool, "checkpoint training runs into the session's autosave folder", default: .nilValue),
          .option("autosave_every", .integer, "autosave a run after this many steps", default: .nilValue).within(1...Limits.steps.upperBound),
          .option("autosave_minutes", .number, "…or after this many minutes, whichever comes first", default: .nilValue).within(0.01...1e6),
        ],
        returns: "record of the settings", example: "set threads: 2 autosave_every: 50"
      ) { [unowned session] a, _ in
        if a.has("threads") { Threads.count = try a.int("threads") }
        if let save = session.autosave {
          if a.has("autosave") { save.enabled = try a.bool("autosave") }
          if a.has("autosave_every") { save.everySteps = try a.int("autosave_every") }
          if a.has("autosave_minutes") { save.everySeconds = try a.number("autosave_minutes") * 60 }
        } else if a.has("autosave") || a.has("autosave_every") || a.has("autosave_minutes") {
          throw ScriptError(.runtime, "set: this session has no autosave folder (the svfap program makes one)", at: a.location)
        }
        var fields: [(String, Value)] = [("threads", .number(Double(Threads.count)))]
        if let save = session.autosave {
          fields += [
            ("autosave", .bool(save.enabled)), ("autosave_folder", .string(save.folder)), ("autosave_every", .number(Double(save.everySteps))),
            ("autosave_minutes", .number(save.everySeconds / 60)),
          ]
        }
        return .record(Record(fields))
      })
  }
}
