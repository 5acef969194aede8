import Foundation
import Media
import SVFAP
import Testing

/// A real `svfap run` process interrupted by SIGINT while it trains: it stops at a step boundary, the
/// script goes on to write a checkpoint, and that checkpoint resumes at the step the log shows.
@Suite(.serialized) struct InterruptedTrainingTests {
  @Test(arguments: ["pretrain", "finetune"]) func ctrlCDuringTrainingLeavesALoadableCheckpoint(task: String) throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("svfap-interrupt-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let train =
      task == "pretrain"
      ? "m = model \"svfap-tiny\" seed: 1\nr = train(m, noise_clip(seed: 3), steps: 100000, total: 100000, log: \"log.jsonl\")"
      : """
      m = model "svfap-tiny" task: "finetune" classes: 2 seed: 1
      r = finetune(m, "labels.csv", split: "", steps: 100000, batch: 1, frames: 16, stride: 1, log: "log.jsonl")
      """
    if task == "finetune" {
      try SyntheticFacesFixture.write(to: dir)
    }
    try (train + "\nprint \"stopped: {r.stopped} at {r.step}\"\nsave_state m \"state.safetensors\"\n").write(
      toFile: dir + "/run.svfap", atomically: true, encoding: .utf8)
    let out = dir + "/out.txt"
    let pid = try spawnProcess(REPLTests.svfap, ["run", dir + "/run.svfap"], stdout: out, keepStderr: true)
    // Wait for three logged steps, then Ctrl-C.
    let deadline = Date().addingTimeInterval(120)
    while Date() < deadline {
      let lines = (try? String(contentsOfFile: dir + "/log.jsonl", encoding: .utf8))?.split(separator: "\n").count ?? 0
      if lines >= 3 { break }
      usleep(50_000)
    }
    kill(pid, SIGINT)
    var status: Int32 = 0
    waitpid(pid, &status, 0)
    let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
    #expect(text.contains("stopped by Ctrl-C after step"), "output:\n\(text)")
    #expect(text.contains("stopped: interrupted"), "output:\n\(text)")
    let logged = try String(contentsOfFile: dir + "/log.jsonl", encoding: .utf8).split(separator: "\n").count
    let step: Int
    if task == "pretrain" {
      step = try Pretrainer.resume(from: dir + "/state.safetensors").step
    } else {
      step = try Finetuner.resume(from: dir + "/state.safetensors").step
    }
    #expect(step == logged && step >= 3)
    #expect(!(try FileManager.default.contentsOfDirectory(atPath: dir)).contains { $0.contains(".tmp-") }, "no temporary file is left behind")
  }
}

/// Two short synthetic videos with labels 0 and 1, for a fine-tuning run.
enum SyntheticFacesFixture {
  static func write(to dir: String) throws {
    let sub = dir + "/faces"
    try Media.SyntheticFaces.writeDataset(to: sub, identities: 1, clipsPerExpression: 1, frames: 16, size: 160, seed: 2)
    try "path,label\nfaces/videos/id00_neutral_00.mp4,0\nfaces/videos/id00_happy_00.mp4,1\n".write(
      toFile: dir + "/labels.csv", atomically: true, encoding: .utf8)
  }
}
