import Foundation
import Media
import SVFAP
import Testing

@testable import Datasets

/// A real `svfap run` process interrupted by SIGINT while it trains: it stops at a step boundary,
/// keeps the run in its autosave, and ends the script there with exit 130 (nothing after the call
/// runs as if it had finished); the autosave resumes at the step the log shows.
@Suite(.serialized) struct InterruptedTrainingTests {
  @Test(arguments: ["pretrain", "finetune"]) func ctrlCDuringTrainingLeavesALoadableCheckpoint(
    task: String
  ) throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
      "svfap-interrupt-\(UUID().uuidString)"
    ).path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let train =
      task == "pretrain"
      ? """
      m = model \"svfap-tiny\" seed: 1\nr = train(m, noise_clip(seed: 3), steps: 100000, total: \
      100000, log: \"log.jsonl\")
      """
      : """
      m = model "svfap-tiny" task: "finetune" classes: 2 seed: 1
      r = finetune(m, "labels.csv", split: "", steps: 100000, batch: 1, frames: 16, stride: 1, log: "log.jsonl")
      """
    if task == "finetune" {
      try SyntheticFacesFixture.write(to: dir)
    }
    try
      (train + "\nprint \"stopped: {r.stopped} at {r.step}\"\nsave_state m \"state.safetensors\"\n")
      .write(
        toFile: dir + "/run.svfap", atomically: true, encoding: .utf8)
    let out = dir + "/out.txt"
    let root = dir + "/autosave"
    let pid = try spawnProcess(
      "env", ["SVFAP_AUTOSAVE_DIR=" + root, REPLTests.svfap, "run", dir + "/run.svfap"],
      stdout: out, keepStderr: true)
    // Wait for three logged steps, then Ctrl-C.
    let deadline = Date().addingTimeInterval(120)
    while Date() < deadline {
      let lines =
        (try? String(contentsOfFile: dir + "/log.jsonl", encoding: .utf8))?.split(separator: "\n")
        .count ?? 0
      if lines >= 3 { break }
      usleep(50_000)
    }
    kill(pid, SIGINT)
    var status: Int32 = 0
    waitpid(pid, &status, 0)
    let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
    #expect((status >> 8) & 0xFF == 130, "exit status \(status)")
    #expect(text.contains("stopped by Ctrl-C after step"), "output:\n\(text)")
    #expect(text.contains("the script ends here"), "output:\n\(text)")
    #expect(!text.contains("stopped: interrupted"), "the script went on:\n\(text)")
    #expect(!FileManager.default.fileExists(atPath: dir + "/state.safetensors"))
    let logged = try String(contentsOfFile: dir + "/log.jsonl", encoding: .utf8).split(
      separator: "\n"
    ).count
    let saved = (FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? [])
      .filter { $0.hasSuffix(".safetensors") }
    let autosave = root + "/" + (try #require(saved.first, "no autosave under \(root)"))
    let step: Int
    if task == "pretrain" {
      step = try Pretrainer.resume(from: autosave).step
    } else {
      step = try Finetuner.resume(from: autosave).step
    }
    #expect(step == logged && step >= 3)
    #expect(
      !(try FileManager.default.contentsOfDirectory(atPath: dir)).contains { $0.contains(".tmp-") },
      "no temporary file is left behind")
  }
}

/// A real `svfap run` process killed with SIGKILL while it trains (no chance to clean up): every
/// autosave it left loads and resumes, and the next start of the program removes any temporary file
/// a save cut short.
@Suite(.serialized) struct KilledTrainingTests {
  @Test func sigkillAtTwentyMomentsAlwaysLeavesLoadableAutosaves() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
      "svfap-kill-\(UUID().uuidString)"
    ).path
    let root = dir + "/autosave"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let script =
      """
      set autosave_every: 4\nm = model \"svfap-tiny\" seed: 1\nr = train(m, noise_clip(seed: \
      3), steps: 100000, total: 100000)\n
      """
    try script.write(toFile: dir + "/run.svfap", atomically: true, encoding: .utf8)
    var state: UInt64 = 20_261_202
    var withAutosave = 0
    func autosaves() -> Int {
      ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).filter { s in
        ((try? FileManager.default.contentsOfDirectory(atPath: root + "/" + s)) ?? []).contains {
          $0.hasSuffix(".safetensors")
        }
      }.count
    }
    for round in 0..<20 {
      state = state &* 6364136223846793005 &+ 1442695040888963407
      // 0 … 1.5 s after the run's first autosave
      let delay = Double(state >> 40) / Double(1 << 24) * 1.5
      let before = autosaves()
      let pid = try spawnProcess(
        "env", ["SVFAP_AUTOSAVE_DIR=" + root, REPLTests.svfap, "run", dir + "/run.svfap"],
        stdout: dir + "/out-\(round).txt")
      // Kill at a random moment of the saving phase (a sanitizer build trains slower: wait for its
      // first save).
      let deadline = Date().addingTimeInterval(180)
      while autosaves() == before && Date() < deadline { usleep(20_000) }
      usleep(UInt32(delay * 1e6))
      kill(pid, SIGKILL)
      var status: Int32 = 0
      waitpid(pid, &status, 0)
      let sessions = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
      for session in sessions {
        for file in (try? FileManager.default.contentsOfDirectory(atPath: root + "/" + session))
          ?? [] where file.hasSuffix(".safetensors")
        {
          let run = try Pretrainer.resume(from: root + "/" + session + "/" + file)
          #expect(run.step > 0 && run.step % 4 == 0, "round \(round): \(file) at step \(run.step)")
        }
      }
      withAutosave = autosaves()
    }
    #expect(withAutosave == 20, "only \(withAutosave) of 20 killed runs had autosaved")
    // The next start cleans up whatever a killed save left behind.
    let pid = try spawnProcess(
      "env", ["SVFAP_AUTOSAVE_DIR=" + root, REPLTests.svfap, "-e", "print 1"],
      stdout: dir + "/clean.txt")
    var status: Int32 = 0
    waitpid(pid, &status, 0)
    let leftovers = (FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? [])
      .filter { $0.contains(".tmp-") }
    #expect(leftovers.isEmpty, "temporary files left: \(leftovers)")
  }
}

/// Two short synthetic videos with labels 0 and 1, for a fine-tuning run.
enum SyntheticFacesFixture {
  static func write(to dir: String) throws {
    let sub = dir + "/faces"
    try Datasets.SyntheticFaces.writeDataset(
      to: sub, identities: 1, clipsPerExpression: 1, frames: 16, size: 160, seed: 2)
    try "path,label\nfaces/videos/id00_neutral_00.mp4,0\nfaces/videos/id00_happy_00.mp4,1\n".write(
      toFile: dir + "/labels.csv", atomically: true, encoding: .utf8)
  }
}
