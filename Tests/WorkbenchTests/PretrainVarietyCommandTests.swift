import Foundation
import Testing
import Tools

@testable import SVFAP
@testable import Script
@testable import Tensor
@testable import Workbench

/// What pretraining a model that generalizes needs from the language: `train … augment:`
/// (reproducible, announced), `animate` (stills set in motion), `reconstruct`'s trivial baseline,
/// and a group photo's chosen face checked against that face.
@Suite(.serialized) struct PretrainVarietyCommandTests {
  /// The losses a fresh nano model logs over 3 steps on noise clips with this augmentation.
  func losses(_ augment: String) throws -> [Double] {
    let dir = try scratchFolder("augment")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let session = quietSession(in: dir)
    var said: [String] = []
    session.interpreter.output = { said.append($0) }
    try session.interpreter.run(
      """
      m = model "svfap-nano" seed: 3
      c = noise_clip(batch: 2, frames: 4, size: 32, seed: 1)
      train m c steps: 3 batch: 2 total: 3 autosave: false augment: "\(augment)"
      """)
    #expect(said.contains { $0.contains("train: augmenting every sample") } == (augment != "none"))
    guard case .handle(let m as ModelHandle)? = session.interpreter.globals["m"], let run = m.run
    else { throw ScriptError(.runtime, "no run") }
    return run.log.map(\.loss)
  }

  @Test func augmentationIsDrawnPerSampleReproduciblyAndChangesTraining() throws {
    let strong = try losses("strong")
    #expect(strong == (try losses("strong")))  // same seed, same draws
    #expect(strong != (try losses("none")))
    #expect(try losses("authors") != (try losses("none")))
    let faces = try losses("faces")
    #expect(faces != (try losses("none")) && faces != strong)
  }

  @Test func reconstructNamesTheLossOfPredictingZeros() throws {
    let dir = try scratchFolder("zero-loss")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let session = quietSession(in: dir)
    try session.interpreter.run(
      """
      m = model "svfap-nano" seed: 3
      r = reconstruct(m, noise_clip(frames: 4, size: 32, seed: 1), mask: tube(0.9, seed: 2))
      z = r.zero_loss
      t = r.target
      """)
    guard case .number(let zero)? = session.interpreter.globals["z"],
      case .handle(let target as TensorHandle)? = session.interpreter.globals["t"]
    else { throw ScriptError(.runtime, "no record") }
    let values = try target.tensor.toFloats().map(Double.init)
    let expected = values.map { $0 * $0 }.reduce(0, +) / Double(values.count)
    #expect(abs(zero - expected) <= 1e-5 * expected && expected > 0.5)
  }

  @Test func animateRefusesAFrameTheClipDoesNotHave() throws {
    let dir = try scratchFolder("animate")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let session = quietSession(in: dir)
    try session.interpreter.run(
      "c = load(\"\(exampleVideo("single_face.mp4"))\", frames: 1, size: 32)\na = animate(c, frames: 6, seed: 2)"
    )
    guard case .handle(let a as ClipHandle)? = session.interpreter.globals["a"] else {
      throw ScriptError(.runtime, "no clip")
    }
    #expect(a.tensor.shape == [1, 3, 6, 32, 32] && a.summary.contains("animated still"))
    #expect { try session.interpreter.run("animate(c, frame: 3)") } throws: {
      "\($0)".contains("frame 3 is past the clip's 1 frames") && "\($0)".contains(":1:")
    }
  }

  @Test(
    .enabled(
      if: FileManager.default.fileExists(atPath: MTCNNWeights.folder + "/onet.pt")
        && FileManager.default.fileExists(atPath: exampleVideo("stills/multi_face.jpg")),
      "MTCNN's weights or the example media are not fetched (scripts/setup)"))
  func aGroupPhotosChosenFaceIsCheckedAgainstThatFace() throws {
    let dir = try scratchFolder("group")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let session = quietSession(in: dir)
    var said: [String] = []
    session.interpreter.output = { said.append($0) }
    try session.interpreter.run(
      """
      c = load("\(exampleVideo("stills/multi_face.jpg"))", frames: 1, crop: "face", detector: "mtcnn", face: 2)
      """)
    #expect(said.contains { $0.contains("took face 2") })
    #expect(!said.contains { $0.contains("less than half of the face") }, "\(said)")
  }
}
