import Foundation
import Testing

@testable import SVFAP
@testable import Script
@testable import Tensor
@testable import Workbench

/// Shipped pretrained weights: `save … card_data:` writes a model card, `model … pretrained: true`
/// loads weights whose card matches the preset and refuses the others, naming the difference.
@Suite(.serialized) struct PretrainedTests {
  func folder() throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
      "svfap-pretrained-\(UUID().uuidString)"
    ).path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
  }

  @Test func aCardedCheckpointLoadsAndADisagreeingOneIsRefused() throws {
    let dir = try folder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    setenv("SVFAP_MODELS", dir, 1)
    defer { unsetenv("SVFAP_MODELS") }
    let session = Session()
    session.interpreter.output = { _ in }
    session.interpreter.currentDirectory = dir
    try session.interpreter.run(
      """
      m = model "svfap-nano" seed: 3
      c = noise_clip(frames: 4, size: 32, seed: 1)
      train m c steps: 2 total: 2 autosave: false
      save m "svfap-nano-pretrained.safetensors" card_data: "noise clips" card_script: "a test"
      """)
    let card = try #require(try ModelCard.read(dir + "/svfap-nano-pretrained.safetensors"))
    #expect(
      card.preset == "svfap-nano" && card.steps == 2 && card.data == "noise clips"
        && card.finalLoss?.isFinite == true)
    #expect(
      try String(contentsOfFile: dir + "/svfap-nano-pretrained.safetensors.md", encoding: .utf8)
        .contains("| steps | 2 |"))
    // The weights come back, into the autoencoder and into a fine-tuning model's encoder.
    try session.interpreter.run(
      """
      p = model "svfap-nano" seed: 9 pretrained: true
      f = model "svfap-nano" task: "finetune" seed: 9 pretrained: true
      card_steps = p.card.steps
      """)
    #expect(session.interpreter.globals["card_steps"] == .number(2))
    guard case .handle(let m as ModelHandle)? = session.interpreter.globals["m"],
      case .handle(let p as ModelHandle)? = session.interpreter.globals["p"],
      case .handle(let f as ModelHandle)? = session.interpreter.globals["f"]
    else { throw ScriptError(.runtime, "missing models") }
    let name = "encoder.patch_embed.proj.weight"
    let saved = try #require(m.module.stateDict()[name]).toFloats()
    #expect(try #require(p.module.stateDict()[name]).toFloats() == saved)
    #expect(try #require(f.module.stateDict()["patch_embed.proj.weight"]).toFloats() == saved)
    // A card that disagrees with the preset is refused, naming the difference.
    let tiny = try SVFAPConfig.preset("svfap-tiny")
    let wrong = ModelCard(
      preset: "svfap-nano", config: tiny, data: "x", steps: 1, finalLoss: 1, script: "x")
    guard case .pretraining(let model, _) = m.state else {
      throw ScriptError(.runtime, "not a pretraining model")
    }
    try Checkpoint.save(
      model, config: model.config, to: dir + "/svfap-nano-pretrained.safetensors",
      metadata: try wrong.metadata())
    #expect { try session.interpreter.run("q = model \"svfap-nano\" pretrained: true") } throws: {
      "\($0)".contains("disagrees with preset 'svfap-nano'") && "\($0)".contains("dim")
        && "\($0)".contains(":1:")
    }
    try Checkpoint.save(model, config: model.config, to: dir + "/svfap-nano-pretrained.safetensors")
    #expect { try session.interpreter.run("q = model \"svfap-nano\" pretrained: true") } throws: {
      "\($0)".contains("has no model card")
    }
    #expect { try session.interpreter.run("q = model \"svfap-small\" pretrained: true") } throws: {
      "\($0)".contains("no pretrained weights for 'svfap-small'")
    }
  }

  /// A checkpoint chosen on held-out loss is saved again with its card: the steps and final loss
  /// are those of the carded file it was loaded from, the notes are in the Markdown; an untrained
  /// model's card says it was not trained (no NaN in the JSON).
  @Test func aChosenCheckpointKeepsItsCardAndNotes() throws {
    let dir = try folder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let session = Session()
    session.interpreter.output = { _ in }
    session.interpreter.currentDirectory = dir
    try session.interpreter.run(
      """
      m = model "svfap-nano" seed: 3
      save m "untrained.safetensors" card_data: "nothing"
      c = noise_clip(frames: 4, size: 32, seed: 1)
      train m c steps: 3 total: 3 autosave: false
      save m "best.safetensors" card_data: "best so far"
      train m c steps: 0 autosave: false
      chosen = model "svfap-nano" seed: 4
      checkpoint chosen "best.safetensors"
      save chosen "shipped.safetensors" card_data: "noise" card_notes: "## Held out\\n| a | b |"
      chosen_steps = chosen.card.steps
      """)
    #expect(session.interpreter.globals["chosen_steps"] == .number(3))
    let untrained = try #require(try ModelCard.read(dir + "/untrained.safetensors"))
    #expect(untrained.finalLoss == nil && untrained.steps == 0)
    let best = try #require(try ModelCard.read(dir + "/best.safetensors"))
    let shipped = try #require(try ModelCard.read(dir + "/shipped.safetensors"))
    #expect(shipped.steps == 3 && shipped.finalLoss == best.finalLoss && best.finalLoss != nil)
    let markdown = try String(contentsOfFile: dir + "/shipped.safetensors.md", encoding: .utf8)
    #expect(markdown.contains("## Held out\n| a | b |") && markdown.contains("| steps | 3 |"))
    #expect(
      try String(contentsOfFile: dir + "/untrained.safetensors.md", encoding: .utf8)
        .contains("none (not trained)"))
    #expect(markdown.contains("` |\n\nLoad it with") && shipped.crop == nil)
  }

  /// A card says how its clips were cropped (card_crop:); reconstruct and loss note, once per clip,
  /// a clip cropped otherwise; a crop that is neither is refused.
  @Test func aCardSaysItsCropAndAMismatchIsNoted() throws {
    let dir = try folder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let session = Session()
    var out: [String] = []
    session.interpreter.output = { out.append($0) }
    session.interpreter.currentDirectory = dir
    try session.interpreter.run(
      """
      m = model "svfap-nano" seed: 3
      save m "aligned.safetensors" card_data: "faces" card_crop: "aligned"
      a = model "svfap-nano" seed: 4
      checkpoint a "aligned.safetensors"
      crop = a.card.crop
      c = load("\(exampleVideo("single_face.mp4"))", frames: 4, size: 32)
      r = reconstruct(a, c)
      l = loss(a, c)
      """)
    #expect(session.interpreter.globals["crop"] == .string("aligned"))
    let markdown = try String(contentsOfFile: dir + "/aligned.safetensors.md", encoding: .utf8)
    #expect(
      markdown.contains(
        "` |\n| input | aligned face crops: load clips with `crop: \"face\" align: true` |\n\nLoad it"
      ), "\(markdown)")
    let notes = out.filter { $0.hasPrefix("note:") }
    #expect(notes.count == 1, "\(notes)")
    #expect(notes.first?.contains("pretrained on aligned face crops") == true)
    #expect(notes.first?.contains("crop: \"face\" align: true") == true)
    do {
      try session.interpreter.run("save m \"x.safetensors\" card_data: \"x\" card_crop: \"tight\"")
      Issue.record("card_crop: \"tight\" was taken")
    } catch { #expect("\(error)".contains("card_crop: is \"aligned\" or \"box\"")) }
  }
}
