import Foundation
import Testing

@testable import SVFAP
@testable import Script
@testable import Workbench

/// Checkpoints say what they are: `model from:` infers the architecture from keys and shapes and
/// loads the weights; loading into another architecture names what the file holds and how to load
/// it.
@Suite(.serialized) struct CheckpointInferenceTests {
  @Test(arguments: ["svfap-nano", "svfap-tiny"])
  func presetsAreRecognisedFromTheirWeights(preset: String) throws {
    let c = try SVFAPConfig.preset(preset)
    let pre = try CheckpointArchitecture.infer(try PretrainModel(c).stateDict())
    #expect(pre.task == .pretrain && pre.preset == preset && pre.config == c)
    var f = c
    f.numClasses = 5
    let fine = try CheckpointArchitecture.infer(try FinetuneModel(f).stateDict())
    #expect(fine.task == .finetune && fine.preset == preset)
    #expect(fine.config.numClasses == 5 && fine.config.stageDepths == c.stageDepths)
    // A state_dict that is no model at all.
    #expect(throws: SVFAPError.self) { try CheckpointArchitecture.infer([:]) }
  }

  @Test func modelFromACheckpointAndAMismatchThatSaysHowToLoadIt() throws {
    let dir = try scratchFolder("infer")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let session = quietSession(in: dir)
    var out: [String] = []
    session.interpreter.output = { out.append($0) }
    try session.interpreter.run(
      """
      m = model "svfap-tiny" seed: 1
      save m "tiny.safetensors"
      n = model from: "tiny.safetensors"
      same = m.params == n.params
      f = model from: "tiny.safetensors" task: "finetune" classes: 3
      """)
    #expect(session.interpreter.globals["same"] == .bool(true))
    #expect(
      out.contains {
        $0.hasPrefix("read from tiny.safetensors: pretraining model, C 96, stages 2/2/2, ")
      })
    guard case .handle(let n as ModelHandle)? = session.interpreter.globals["n"],
      case .handle(let m as ModelHandle)? = session.interpreter.globals["m"]
    else {
      Issue.record("no models")
      return
    }
    let name = "encoder.blocks.0.attn.qkv.weight"
    #expect(
      try #require(n.module.stateDict()[name]).toFloats()
        == (try #require(m.module.stateDict()[name]).toFloats()))
    do {
      try session.interpreter.run("s = model \"svfap-small\"\ncheckpoint s \"tiny.safetensors\"")
      Issue.record("a 96-wide checkpoint went into a 384-wide model")
    } catch {
      #expect("\(error)".contains("the file holds a pretraining model, C 96"))
      #expect("\(error)".contains("model from: \"tiny.safetensors\""))
    }
  }

  /// Issue 30's bad input: weights of one forward loaded into a model of another are refused,
  /// naming both (the shapes are the same, so nothing else would notice); `model from:` keeps the
  /// forward the file records.
  @Test func aVariantsWeightsAreNotLoadedIntoAnotherForward() throws {
    let dir = try scratchFolder("variant")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let session = quietSession(in: dir)
    try session.interpreter.run(
      """
      r = model "svfap-nano" variant: "released" seed: 1
      save r "released.safetensors"
      train r noise_clip(frames: 4, size: 32, seed: 1) steps: 1 total: 1 autosave: false
      save_state r "released-state.safetensors"
      p = model "svfap-nano" seed: 2
      save p "paper.safetensors"
      back = model from: "released.safetensors"
      """)
    for file in ["released.safetensors", "released-state.safetensors"] {
      #expect { try session.interpreter.run("checkpoint p \"\(file)\"") } throws: {
        "\($0)".contains("\(file) was trained with the released forward")
          && "\($0)".contains("this model runs the paper's forward")
          && "\($0)".contains("variant: \"released\"")
      }
    }
    #expect { try session.interpreter.run("checkpoint r \"paper.safetensors\"") } throws: {
      "\($0)".contains("paper.safetensors was trained with the paper's forward")
        && "\($0)".contains("this model runs the released forward")
    }
    // On purpose (comparing the forwards on the same weights): loaded.
    try session.interpreter.run("checkpoint p \"released.safetensors\" other_forward: true")
    guard case .handle(let back as ModelHandle)? = session.interpreter.globals["back"] else {
      throw ScriptError(.runtime, "no model")
    }
    #expect(back.config.variant == .released)
  }

  /// Issue 30's bad input: a checkpoint whose shapes match no preset and which records no
  /// architecture is refused, naming the closest preset and the differences; `assume: true`
  /// builds it with the assumptions printed.
  @Test func aCheckpointMatchingNoPresetNamesTheClosest() throws {
    let dir = try scratchFolder("no-preset")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var c = try SVFAPConfig.preset("svfap-tiny")
    c.dim = 128
    c.heads = 2
    try SafeTensorsFile.write(
      try PretrainModel(c).stateDict(), metadata: [:], to: dir + "/odd.safetensors")
    let session = quietSession(in: dir)
    var out: [String] = []
    session.interpreter.output = { out.append($0) }
    #expect { try session.interpreter.run("m = model from: \"odd.safetensors\"") } throws: {
      "\($0)".contains("no preset matches odd.safetensors")
        && "\($0)".contains("the closest preset, svfap-tiny, differs in dim 96 ≠ 128")
        && "\($0)".contains("assume: true") && "\($0)".contains(":1:")
    }
    try session.interpreter.run("m = model from: \"odd.safetensors\" assume: true")
    #expect(out.contains { $0.contains("no preset matches: later stages split 2:1") })
  }
}
