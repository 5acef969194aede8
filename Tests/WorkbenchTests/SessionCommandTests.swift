import Foundation
import Testing
@testable import Media
@testable import Script
@testable import Workbench

/// The workbench commands end to end on a small synthetic dataset, and a session that survives errors.
@Suite(.serialized) struct SessionCommandTests {
  @Test func finetuneEvaluateFeaturesOnSyntheticFaces() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("svfap-session-\(UUID().uuidString)").path
    try SyntheticFaces.writeDataset(to: dir, identities: 2, clipsPerExpression: 1, frames: 20, size: 64, seed: 4)
    let session = Session()
    var out: [String] = []
    session.interpreter.output = { out.append($0) }
    session.interpreter.currentDirectory = dir
    try session.interpreter.run("""
      f = model "svfap-tiny" task: "finetune" seed: 1
      r = finetune(f, "expressions.csv", split: "", steps: 2, batch: 2, frames: 16, stride: 1)
      e = evaluate(f, "expressions.csv", split: "", clips: 1, frames: 16, stride: 1)
      x = features(f, "expressions.csv", output: "feats.safetensors", clips: 1, frames: 16, stride: 1)
      """)
    guard case .record(let r)? = session.interpreter.globals["r"], case .record(let e)? = session.interpreter.globals["e"],
          case .record(let x)? = session.interpreter.globals["x"] else { Issue.record("missing results"); return }
    #expect(r["clips"] == .number(14) && r["step"] == .number(2))
    if case .number(let war)? = e["war"] { #expect((0...1).contains(war)) } else { Issue.record("no WAR") }
    #expect(x["videos"] == .number(14) && x["dim"] == .number(96))
    #expect(FileManager.default.fileExists(atPath: dir + "/feats.safetensors"))
  }

  @Test func theSessionSurvivesErrors() throws {
    let session = Session()
    session.interpreter.output = { _ in }
    try session.interpreter.run("m = model \"svfap-tiny\" seed: 1\nkeep = 41")
    for bad in ["load \"no-such-file.mp4\"", "model \"svfap-huge\"", "train m 3", "loss m", "show 5", "checkpoint m \"missing.pth\"", "x = (1 +"] {
      #expect(throws: ScriptError.self) { try session.interpreter.run(bad) }
    }
    #expect(try session.interpreter.run("keep + 1") == .number(42))
    #expect(try session.interpreter.run("m.params") == .number(1_288_968))
  }
}
