import Foundation
import Testing

@testable import Datasets
@testable import Media
@testable import Script
@testable import Workbench

/// The workbench commands end to end on a small synthetic dataset, and a session that survives
/// errors.
@Suite(.serialized) struct SessionCommandTests {
  /// A session in a fresh folder holding the synthetic dataset (2 identities, 14 expression clips,
  /// traits, unlabeled), with `f` a svfap-tiny fine-tuning model (seed 1); printed lines go to `out`.
  final class SyntheticSession {
    let dir: String
    let session = Session()
    var out: [String] = []

    init() throws {
      dir =
        FileManager.default.temporaryDirectory.appendingPathComponent(
          "svfap-session-\(UUID().uuidString)"
        ).path
      try SyntheticFaces.writeDataset(
        to: dir, identities: 2, clipsPerExpression: 1, frames: 20, size: 64, seed: 4)
      session.interpreter.output = { [unowned self] in self.out.append($0) }
      session.interpreter.currentDirectory = dir
      try session.interpreter.run("f = model \"svfap-tiny\" task: \"finetune\" seed: 1")
    }

    deinit { try? FileManager.default.removeItem(atPath: dir) }
  }

  /// `bench … profile: true` adds where the step's time went, by kind, attention among them.
  @Test func benchWithAProfile() throws {
    let dir = try scratchFolder("bench")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let session = quietSession(in: dir)
    try session.interpreter.run(
      """
      b = bench "svfap-nano" batch: 2 runs: 1 profile: true
      kinds = keys(b.profile_ms)
      attention = b.profile_ms.attention
      total = 0
      for k in kinds { total += b.profile_ms[k] }
      ceiling = b.sgemm_ceiling_ms
      share = b.of_ceiling
      plain = bench "svfap-nano" runs: 1
      plain_kinds = keys(plain)
      split_on = b.split
      set split: false
      off = bench "svfap-nano" batch: 2 runs: 1
      split_off = off.split
      """)
    let g = session.interpreter.globals
    guard case .number(let attention)? = g["attention"], case .number(let total)? = g["total"],
      case .list(let kinds)? = g["kinds"], case .list(let plainKinds)? = g["plain_kinds"]
    else {
      Issue.record("bench returned \(String(describing: g["b"]))")
      return
    }
    #expect(attention > 0, "the nano model's attention took time")
    #expect(kinds.contains(.string("matmul")) && kinds.contains(.string("other")))
    #expect(total > 0)
    #expect(!plainKinds.contains(.string("profile_ms")), "no profile unless asked")
    #expect(!plainKinds.contains(.string("sgemm_ceiling_ms")), "no ceiling unless asked")
    if case .number(let ceiling)? = g["ceiling"], case .number(let share)? = g["share"] {
      #expect(ceiling > 0 && share > 0 && share.isFinite)
    } else {
      Issue.record("no GEMM ceiling in \(String(describing: g["b"]))")
    }
    // A training step is the one `train` runs: split over the threads unless switched off (how
    // many threads depends on the cores this machine has and the session's threads).
    if case .number(let on)? = g["split_on"] {
      #expect(on == 1 || on == 2)
    } else {
      Issue.record("no split in \(String(describing: g["b"]))")
    }
    #expect(g["split_off"] == .number(1), "`set split: false` times one model")
  }

  /// Fine-tuning, evaluation and feature export (a manifest and one video).
  @Test func finetuneEvaluateAndExportFeatures() throws {
    let s = try SyntheticSession()
    let (session, dir) = (s.session, s.dir)
    _ = dir
    try session.interpreter.run(
      """
      r = finetune(f, "expressions.csv", split: "", steps: 2, batch: 2, frames: 16, stride: 1)
      e = evaluate(f, "expressions.csv", split: "", clips: 1, frames: 16, stride: 1)
      x = features(f, "expressions.csv", output: "feats.safetensors", clips: 1, frames: 16, stride: 1)
      """)
    guard case .record(let r)? = session.interpreter.globals["r"],
      case .record(let e)? = session.interpreter.globals["e"],
      case .record(let x)? = session.interpreter.globals["x"]
    else {
      Issue.record("missing results")
      return
    }
    #expect(r["clips"] == .number(14) && r["step"] == .number(2))
    if case .number(let war)? = e["war"] {
      #expect((0...1).contains(war))
    } else {
      Issue.record("no WAR")
    }
    #expect(x["videos"] == .number(14) && x["dim"] == .number(96))
    #expect(FileManager.default.fileExists(atPath: dir + "/feats.safetensors"))
    // One video: its feature is returned as well as written.
    try session.interpreter.run(
      """
      one = features(f, \"videos/id01_sad_00.mp4\", output: \"one.csv\", clips: 1, frames: 16, \
      stride: 1)
      """
    )
    #expect(
      try session.interpreter.run("one.videos") == .number(1)
        && session.interpreter.run("len(one.feature)") == .number(96))
    #expect(
      try String(contentsOfFile: dir + "/one.csv", encoding: .utf8).split(separator: "\n").count
        == 2)
  }

  /// A second call continues the run in epochs; its state saves, resumes and probes.
  @Test func aSecondCallContinuesTheRunAndResumes() throws {
    let s = try SyntheticSession()
    let (session, dir) = (s.session, s.dir)
    _ = dir
    try session.interpreter.run(
      "r = finetune(f, \"expressions.csv\", split: \"\", steps: 2, batch: 2, frames: 16, stride: 1)"
    )
    // A second call continues the run; epochs count ⌈14 clips / 4⌉ = 4 steps; the state resumes.
    try session.interpreter.run(
      """
      r2 = finetune(f, "expressions.csv", split: "", epochs: 1, batch: 4, frames: 16, stride: 1, log: "ft.jsonl")
      save_state f "ft-state.safetensors"
      g = resume("ft-state.safetensors")
      p = linear_probe(f, "expressions.csv", train: "", test: "", clips: 1, frames: 16, stride: 1, same_rows: true)
      """)
    guard case .record(let r2)? = session.interpreter.globals["r2"],
      case .record(let p)? = session.interpreter.globals["p"]
    else {
      Issue.record("missing results")
      return
    }
    #expect(r2["step"] == .number(6) && r2["stopped"] == .string("finished"))
    #expect(
      try session.interpreter.run("g.step") == .number(6)
        && session.interpreter.run("len(g.losses)") == .number(6))
    #expect(
      try String(contentsOfFile: dir + "/ft.jsonl", encoding: .utf8).split(separator: "\n").count
        == 4)
    if case .number(let fit)? = p["train_war"], case .number(let war)? = p["war"] {
      #expect((0...1).contains(fit) && (0...1).contains(war))
    } else {
      Issue.record("no probe scores")
    }
  }

  /// Schedules in epochs and several views per video.
  @Test func schedulesInEpochsAndViewsPerVideo() throws {
    let s = try SyntheticSession()
    let (session, dir) = (s.session, s.dir)
    _ = dir
    // Schedules in epochs: 14 clips at batch 4 = 4 steps per epoch.
    try session.interpreter.run(
      """
      h = model \"svfap-tiny\" task: \"finetune\" seed: 3\nfinetune h \"expressions.csv\" \
      split: \"\" epochs: 0.5 total_epochs: 3 warmup_epochs: 1 batch: 4 frames: 16 stride: 1
      """
    )
    #expect(
      try session.interpreter.run("h.schedule.total") == .number(12)
        && session.interpreter.run("h.schedule.warmup") == .number(4))
    #expect(try session.interpreter.run("h.step") == .number(2))
    // Three clips per video: an epoch still counts the 14 videos.
    try session.interpreter.run(
      """
      rv = finetune(h, \"expressions.csv\", split: \"\", epochs: 1, views: 3, batch: 4, frames: \
      16, stride: 1, restart: true)
      """
    )
    #expect(
      try session.interpreter.run("rv.clips") == .number(14)
        && session.interpreter.run("rv.step") == .number(4))
  }

  /// Streamed fine-tuning and pretraining resume on the same batches.
  @Test func streamedRunsResumeOnTheSameBatches() throws {
    let s = try SyntheticSession()
    let (session, dir) = (s.session, s.dir)
    _ = dir
    // Streamed from disk (crossing an epoch, with mixup): interrupted, saved and resumed, the run
    // reads the same batches and gives the losses of the uninterrupted one.
    let streamed = "split: \"\", batch: 4, stream: true, frames: 16, stride: 1, mixup: 0.8"
    try session.interpreter.run(
      """
      seed 7
      s1 = model "svfap-tiny" task: "finetune" seed: 5
      finetune(s1, "expressions.csv", steps: 5, \(streamed))
      seed 7
      s2 = model "svfap-tiny" task: "finetune" seed: 5
      finetune(s2, "expressions.csv", steps: 2, total: 5, \(streamed))
      save_state s2 "stream.safetensors"
      s3 = resume("stream.safetensors")
      finetune(s3, "expressions.csv", steps: 3, \(streamed))
      """)
    #expect(try session.interpreter.run("len(s1.losses)") == .number(5))
    #expect(try session.interpreter.run("s3.losses") == session.interpreter.run("s1.losses"))
    // Pretraining streamed from a manifest resumes on the same batches and masks too.
    let pretrain = "batch: 4, total: 5, frames: 16, stride: 1"
    try session.interpreter.run(
      """
      seed 9
      p1 = model "svfap-tiny" seed: 4
      train(p1, "unlabeled.csv", steps: 5, \(pretrain))
      seed 9
      p2 = model "svfap-tiny" seed: 4
      train(p2, "unlabeled.csv", steps: 2, \(pretrain))
      save_state p2 "pstream.safetensors"
      p3 = resume("pstream.safetensors")
      train(p3, "unlabeled.csv", steps: 3, \(pretrain))
      """)
    #expect(try session.interpreter.run("len(p1.losses)") == .number(5))
    #expect(try session.interpreter.run("p3.losses") == session.interpreter.run("p1.losses"))
  }

  /// Personality: a sigmoid head on five traits, scored per trait and on average.
  @Test func personalityTraitsWithASigmoidHead() throws {
    let s = try SyntheticSession()
    let (session, dir) = (s.session, s.dir)
    _ = dir
    // Personality: a sigmoid head on the five traits; per-trait and mean CCC and 1 − MAE.
    try session.interpreter.run(
      """
      t = model "svfap-tiny" task: "finetune" classes: 5 activation: "sigmoid" seed: 2
      finetune t "traits.csv" split: "" steps: 1 batch: 2 frames: 16 stride: 1 loss: "ccc"
      rt = evaluate(t, "traits.csv", split: "", clips: 1, frames: 16, stride: 1)
      """)
    guard case .record(let rt)? = session.interpreter.globals["rt"],
      case .record(let mean)? = rt["mean"], case .record(let o)? = rt["openness"]
    else {
      Issue.record("no trait scores")
      return
    }
    #expect(rt.keys.count == 7)  // five traits, their mean, the videos scored
    if case .number(let acc)? = mean["one_minus_mae"], case .number(let accO)? = o["one_minus_mae"]
    {
      #expect((0...1).contains(acc) && (0...1).contains(accO))
    } else {
      Issue.record("no 1 − MAE")
    }
  }

  /// Bad labels are refused up front; failing rows are skipped or stop the command.
  @Test func badLabelsAndFailingRows() throws {
    let s = try SyntheticSession()
    let (session, dir) = (s.session, s.dir)
    _ = dir
    // Labels outside the head's classes are refused before any video is decoded.
    try "path,label\nvideos/missing.mp4,9\n".write(
      toFile: dir + "/bad-labels.csv", atomically: true, encoding: .utf8)
    #expect {
      try session.interpreter.run("finetune f \"bad-labels.csv\" split: \"\" steps: 1")
    } throws: {
      "\($0)".contains("outside 0..<7") && !"\($0)".contains("missing.mp4:")
    }
    // A row whose video fails is skipped and reported, or stops the command when asked.
    try "path,label\nvideos/id00_happy_00.mp4,1\nvideos/missing.mp4,2\n".write(
      toFile: dir + "/one-missing.csv", atomically: true, encoding: .utf8)
    s.out.removeAll()
    try session.interpreter.run(
      """
      r3 = finetune(f, \"one-missing.csv\", split: \"\", steps: 1, batch: 1, frames: 16, \
      stride: 1, restart: true)
      """
    )
    #expect(s.out.contains { $0.hasPrefix("skipped videos/missing.mp4") })
    #expect(
      try session.interpreter.run("r3.clips") == .number(1)
        && session.interpreter.run("r3.step") == .number(1))
    #expect {
      try session.interpreter.run(
        """
        finetune f \"one-missing.csv\" split: \"\" steps: 1 frames: 16 stride: 1 on_error: \
        \"stop\"
        """
      )
    } throws: {
      "\($0)".contains("videos/missing.mp4") && "\($0)".contains("on_error")
    }
    // Streamed: the same two policies.
    s.out.removeAll()
    try session.interpreter.run(
      """
      finetune(f, \"one-missing.csv\", split: \"\", steps: 2, batch: 2, frames: 16, stride: 1, \
      stream: true, restart: true)
      """
    )
    #expect(s.out.contains { $0.hasPrefix("skipped videos/missing.mp4") })
    #expect {
      try session.interpreter.run(
        """
        finetune f \"one-missing.csv\" split: \"\" steps: 2 batch: 2 frames: 16 stride: 1 \
        stream: true restart: true on_error: \"stop\"
        """
      )
    } throws: { "\($0)".contains("missing.mp4") && "\($0)".contains("on_error") }
  }

  @Test func theSessionSurvivesErrors() throws {
    let session = Session()
    session.interpreter.output = { _ in }
    try session.interpreter.run("m = model \"svfap-tiny\" seed: 1\nkeep = 41")
    for bad in [
      "load \"no-such-file.mp4\"", "model \"svfap-huge\"", "train m 3", "loss m", "show 5",
      "checkpoint m \"missing.pth\"", "x = (1 +",
    ] {
      #expect(throws: ScriptError.self) { try session.interpreter.run(bad) }
    }
    #expect(try session.interpreter.run("keep + 1") == .number(42))
    #expect(try session.interpreter.run("m.params") == .number(1_301_896))
    // Pooled metrics against hand-computed values: recalls 1, 1, 1/2.
    try session.interpreter.run(
      "s = metrics [0, 1, 1, 2] [0, 1, 2, 2]\nv = metrics [1, 2, 3] [1, 2, 4] kind: \"values\"")
    #expect(
      try session.interpreter.run("s.war") == .number(0.75)
        && session.interpreter.run("round(s.uar * 1e6)") == .number(833_333))
    #expect(try session.interpreter.run("v.value.one_minus_mae") == .number(1 - 1.0 / 3))
    #expect(throws: ScriptError.self) { try session.interpreter.run("metrics [0, 1] [0]") }
  }
}
