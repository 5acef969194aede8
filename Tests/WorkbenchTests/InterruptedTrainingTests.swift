import Foundation
import Media
import SVFAP
import Testing

/// A real `svfap run` process interrupted by SIGINT while it trains: it stops at a step boundary, the
/// script goes on to write a checkpoint, and that checkpoint resumes at the step the log shows.
@Suite(.serialized) struct InterruptedTrainingTests {
  /// Spawns svfap with default signal handling; stdout and stderr go to `out`.
  func spawn(_ args: [String], out: String) throws -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    var cargs = ([REPLTests.svfap] + args).map { strdup($0) } + [nil]
    defer { for p in cargs { free(p) } }
    var attr = posix_spawnattr_t()
    posix_spawnattr_init(&attr)
    defer { posix_spawnattr_destroy(&attr) }
    var none = sigset_t(), all = sigset_t()
    sigemptyset(&none)
    sigfillset(&all)
    posix_spawnattr_setsigmask(&attr, &none)
    posix_spawnattr_setsigdefault(&attr, &all)
    posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    var pid = pid_t()
    guard posix_spawn(&pid, REPLTests.svfap, &actions, &attr, &cargs, environ) == 0 else { throw POSIXError(.ENOENT) }
    return pid
  }

  @Test(arguments: ["pretrain", "finetune"]) func ctrlCDuringTrainingLeavesALoadableCheckpoint(task: String) throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("svfap-interrupt-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let train = task == "pretrain"
      ? "m = model \"svfap-tiny\" seed: 1\nr = train(m, noise_clip(seed: 3), steps: 100000, total: 100000, log: \"log.jsonl\")"
      : """
        m = model "svfap-tiny" task: "finetune" classes: 2 seed: 1
        r = finetune(m, "labels.csv", split: "", steps: 100000, batch: 1, frames: 16, stride: 1, log: "log.jsonl")
        """
    if task == "finetune" {
      try SyntheticFacesFixture.write(to: dir)
    }
    try (train + "\nprint \"stopped: {r.stopped} at {r.step}\"\nsave_state m \"state.safetensors\"\n").write(toFile: dir + "/run.svfap", atomically: true, encoding: .utf8)
    let out = dir + "/out.txt"
    let pid = try spawn(["run", dir + "/run.svfap"], out: out)
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
    if task == "pretrain" { step = try Pretrainer.resume(from: dir + "/state.safetensors").step } else { step = try Finetuner.resume(from: dir + "/state.safetensors").step }
    #expect(step == logged && step >= 3)
    #expect(!(try FileManager.default.contentsOfDirectory(atPath: dir)).contains { $0.contains(".tmp-") }, "no temporary file is left behind")
  }
}

/// Two short synthetic videos with labels 0 and 1, for a fine-tuning run.
enum SyntheticFacesFixture {
  static func write(to dir: String) throws {
    let sub = dir + "/faces"
    try Media.SyntheticFaces.writeDataset(to: sub, identities: 1, clipsPerExpression: 1, frames: 16, size: 160, seed: 2)
    try "path,label\nfaces/videos/id00_neutral_00.mp4,0\nfaces/videos/id00_happy_00.mp4,1\n".write(toFile: dir + "/labels.csv", atomically: true, encoding: .utf8)
  }
}
