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
      out.contains { $0.hasPrefix("inferred from tiny.safetensors: pretraining model, C 96") })
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
}
