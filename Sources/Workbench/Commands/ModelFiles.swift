import Foundation
import SVFAP
import Script
import Tensor
import Tools

/// `save`: a model's weights as safetensors, optionally with a model card.
struct SaveWeights: SessionCommand {
  unowned let session: Session
  let declaration = CommandDeclaration(
    "save", topic: "model",
    summary: """
      Write a model's weights as safetensors (PyTorch state_dict names), atomically; with card_data: \
      also its model card (preset, architecture, data, steps, final loss, script) in the metadata \
      and as PATH.md beside it (weights loaded by checkpoint from a carded file keep its steps and \
      final loss).
      """,
    params: [
      .positional("model", .handle("model"), "the model"),
      .positional("path", .string, "output file (.safetensors)"),
      .option(
        "card_data", .string, "what the model was trained on (writes a model card)",
        default: .nilValue),
      .option(
        "card_script", .string, "the command that reproduces the weights", default: .string("")),
      .option(
        "card_notes", .string,
        "Markdown added to the card (how the weights were chosen, held-out scores)",
        default: .nilValue),
      .option(
        "card_crop", .string,
        """
        how the training clips were cropped, "aligned" or "box" (the card says it, and reconstruct \
        and loss note a clip cropped otherwise)
        """,
        default: .nilValue),
    ],
    example: "save m \"runs/tiny.safetensors\"", rootOnly: true)

  func run(_ a: Arguments, in interp: Interpreter) throws -> Value {
    let m = try a.handle("model", as: ModelHandle.self)
    let path = session.resolve(try a.string("path"))
    var card: ModelCard?
    if let data = try a.stringIfGiven("card_data") {
      // Trained in this session: its run; weights loaded from a carded checkpoint: that card's.
      let losses = (m.run?.log ?? []).suffix(100).map(\.loss)
      let trained = m.run.map { $0.step > 0 } ?? false
      card = ModelCard(
        preset: m.config.presetName ?? m.preset, config: m.config, data: data,
        steps: trained ? m.run?.step ?? 0 : m.weightsCard?.steps ?? 0,
        finalLoss: trained && !losses.isEmpty
          ? losses.reduce(0, +) / Double(losses.count) : m.weightsCard?.finalLoss,
        script: try a.string("card_script"))
      card?.notes = try a.stringIfGiven("card_notes")
      if let crop = try a.stringIfGiven("card_crop") {
        guard let known = ModelCard.Crop(rawValue: crop) else {
          throw a.error("card_crop: is \"aligned\" or \"box\", got \"\(crop)\"")
        }
        card?.crop = known
      }
    }
    do {
      try Checkpoint.save(
        m.module, config: m.config, to: path, metadata: try card?.metadata() ?? [:])
      if let card { try writeAtomically(Data(card.markdown.utf8), to: path + ".md") }
    } catch {
      throw a.error("\(error)", io: true)
    }
    interp.output(
      "saved \(m.module.namedParameters().count) tensors to \(path)\(card == nil ? "" : " with its model card")"
    )
    return .nilValue
  }
}

/// `checkpoint`: weights into a model from safetensors or the authors' .pth.
struct LoadWeights: SessionCommand {
  unowned let session: Session
  let declaration = CommandDeclaration(
    "checkpoint", topic: "model",
    summary:
      """
      Load weights into a model from .safetensors or the authors' .pth (restricted unpickler); \
      reports new and unused tensors; weights trained with the other pretraining forward (paper \
      or released) are refused unless other_forward: true.
      """,
    params: [
      .positional("model", .handle("model"), "the model"),
      .positional("path", .string, "a .safetensors or .pth file"),
      .option(
        "other_forward", .bool,
        """
        load weights trained with the other pretraining forward (paper or released) on purpose, \
        to compare the forwards on the same weights
        """,
        default: .bool(false)),
    ],
    returns: "record {loaded, new, unused}", example: "checkpoint m \"pretrained.pth\"")

  func run(_ a: Arguments, in interp: Interpreter) throws -> Value {
    let m = try a.handle("model", as: ModelHandle.self)
    let path = try session.existingFile(a)
    let tensors = try a.located { try Checkpoint.readTensors(path) }
    // The same shapes run another forward: weights trained with one variant are refused by a
    // model of another, naming both.
    if m.task == .pretrain, !(try a.bool("other_forward")),
      let recorded = RecordedConfig.read(path),
      recorded.variant != m.config.variant
    {
      throw a.error(
        """
        \((path as NSString).lastPathComponent) was trained with \
        \(RecordedConfig.forwardName(recorded.variant)); this model runs \
        \(RecordedConfig.forwardName(m.config.variant)): load it with m = model from: \
        "\(try a.string("path"))" (which keeps the file's forward), build the model with \
        \(recorded.variant.map { "variant: \"\($0.rawValue)\"" } ?? "no variant:"), or give \
        other_forward: true to compare the forwards on these weights
        """)
    }
    let report: LoadReport
    do { report = try Checkpoint.load(tensors, into: m.module) } catch let e as SVFAPError {
      // Another architecture: say what the file holds and how to load it.
      guard let found = try? CheckpointArchitecture.infer(tensors) else { throw a.error("\(e)") }
      throw a.error(
        """
        \(e); the file holds a \(found.description)\(found.preset.map { " (\($0))" } ?? ""): load it \
        with m = model from: "\(try a.string("path"))"\(m.task == .finetune && found.task == .pretrain ? " task: \"finetune\"" : "")
        """)
    }
    interp.output(report.description)
    m.weightsFrom = (path as NSString).lastPathComponent
    m.weightsCard = path.hasSuffix(".safetensors") ? try? ModelCard.read(path) : nil
    return .record(
      Record([
        ("loaded", .number(Double(report.loaded.count))),
        ("new", .list(report.new.map { .string($0) })),
        ("unused", .list(report.unused.map { .string($0) })),
      ]))
  }
}

/// `inspect_checkpoint`: what a weights file holds, read without running code.
struct InspectCheckpoint: SessionCommand {
  unowned let session: Session
  let declaration = CommandDeclaration(
    "inspect_checkpoint", topic: "model",
    summary:
      """
      List what a .safetensors or the authors' .pth file holds (tensors, parameter count, other \
      entries such as the training arguments), read without running code.
      """,
    params: [.positional("path", .string, "a .pth or .safetensors file")],
    returns: "record {tensors, parameters, names, extras}",
    example: "inspect_checkpoint \"pretrained.pth\"")

  func run(_ a: Arguments, in interp: Interpreter) throws -> Value {
    let path = try session.existingFile(a)
    var extras: [(String, Value)] = []
    let tensors: [String: Tensor]
    if path.hasSuffix(".pth") || path.hasSuffix(".pt") {
      let c = try a.located { try TorchCheckpoint(path: path) }
      tensors = c.tensors
      for (k, v) in c.extras.sorted(by: { $0.key < $1.key }) {
        extras.append((k, .string(String(v.description.prefix(300)))))
      }
    } else {
      tensors = try a.located { try Checkpoint.readTensors(path) }
    }
    return .record(
      Record([
        ("tensors", .number(Double(tensors.count))),
        ("parameters", .number(Double(tensors.values.reduce(0) { $0 + $1.count }))),
        ("names", .list(tensors.keys.sorted().prefix(8).map { .string($0) })),
        ("extras", .record(Record(extras))),
      ]))
  }
}

/// `check_fixture`: recompute a golden fixture and compare.
struct CheckFixture: SessionCommand {
  unowned let session: Session
  let declaration = CommandDeclaration(
    "check_fixture", topic: "model",
    summary: "Recompute a golden fixture of the authors' PyTorch code and compare every tensor.",
    params: [.positional("path", .string, "a fixture .safetensors file")],
    returns: "record {ok, tensors, worst}",
    example: "check_fixture \"Tests/Fixtures/unit_block_fp32.safetensors\"")

  func run(_ a: Arguments, in interp: Interpreter) throws -> Value {
    let path = session.resolve(try a.string("path"))
    let r = try a.located { try FixtureCheck.check(path: path) }
    if let why = r.unsupported {
      return .record(Record([("ok", .bool(false)), ("unsupported", .string(why))]))
    }
    let worst = r.rows.map { $0.maxError / max($0.scale, 1e-300) }.max() ?? 0
    return .record(
      Record([
        ("ok", .bool(r.ok)), ("tensors", .number(Double(r.rows.count))), ("worst", .number(worst)),
      ]))
  }
}
