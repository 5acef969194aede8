import Foundation
import Testing

@testable import SVFAP
@testable import Script
@testable import Workbench

/// Issue 28's training findings, each as it was met: a run's settings are never dropped in silence,
/// a schedule that cannot train says so, one log file holds one run.
@Suite(.serialized) struct RunHonestyTests {
  /// A session in a scratch folder whose printed lines are kept.
  final class Recorded {
    let dir: String
    let session: Session
    var out: [String] = []
    init(_ purpose: String) throws {
      dir = try scratchFolder(purpose)
      session = quietSession(in: dir)
      session.interpreter.output = { [unowned self] in self.out.append($0) }
      try session.interpreter.run(
        """
        m = model "svfap-nano" seed: 3
        c = noise_clip(frames: 4, size: 32, seed: 1)
        """)
    }
    deinit { try? FileManager.default.removeItem(atPath: dir) }

    /// Runs `code`; the error's message when it fails, nil when it runs.
    func failure(_ code: String) -> String? {
      do { try session.interpreter.run(code) } catch { return "\(error)" }
      return nil
    }
    /// The printed lines containing `text`.
    func said(_ text: String) -> [String] { out.filter { $0.contains(text) } }
  }

  /// Finding 1: README's session gave a second run's options to a continuing call, which kept the
  /// first run's schedule and trained at lr 3.9e-08. Now: a located error naming them and the ways
  /// out; the same values again, or none, continue; restart: true starts the new run.
  @Test func optionsOfANewRunAreNotDroppedInSilence() throws {
    let r = try Recorded("run-options")
    try r.session.interpreter.run("train m c steps: 2 lr: 1.0 total: 4 autosave: false")
    #expect(r.said("new pretraining run: peak lr 0.003906").count == 1)
    try r.session.interpreter.run("train m c steps: 1 autosave: false")  // continues
    try r.session.interpreter.run("train m c steps: 1 lr: 1.0 total: 4 autosave: false")  // same
    let error = try #require(
      r.failure("train m c steps: 2 lr: 0.2 total: 2000 autosave: false"))
    #expect(error.contains("lr: 0.2, total: 2000 set a new run"))
    #expect(error.contains("step 4") && error.contains("restart: true"))
    #expect(error.contains("1:"))  // located
    try r.session.interpreter.run(
      "train m c steps: 2 lr: 0.2 total: 2000 restart: true autosave: false\nstep = m.step")
    #expect(r.session.interpreter.globals["step"] == .number(2))
    #expect(r.said("new pretraining run: peak lr 0.000781").count == 1)
    #expect(r.said("warmup").count == 2)
  }

  /// Finding 2: the demo's `train m clip steps: 20` at the authors' rate per 256 clips and batch
  /// 1 gives a peak lr of 1.2e-06 that barely moves the weights; it looked like training. Now: a
  /// warning naming lr:, and a warning when a call runs past its schedule.
  @Test func aScheduleThatCannotTrainSaysSo() throws {
    let r = try Recorded("tiny-lr")
    try r.session.interpreter.run("train m c steps: 2 total: 3 autosave: false")
    #expect(r.said("warning: a peak lr of").count == 1)
    #expect(r.said("pass a larger lr:").count == 1)
    #expect(r.said("of a 3-step schedule").isEmpty)
    try r.session.interpreter.run("train m c steps: 2 autosave: false")
    #expect(r.said("warning: step 4 of a 3-step schedule").count == 1)
    try r.session.interpreter.run("train m c steps: 1 autosave: false")
    #expect(r.said("of a 3-step schedule").count == 1)  // once per run
    // The model's printed form shows its run.
    try r.session.interpreter.run("print m")
    #expect(r.said("step 5, loss").count == 1)
  }

  /// Finding 4: a second run logged into an existing file drew a curve jumping back to step 1; a
  /// log in a missing folder failed with a raw Cocoa error; a resume after kill -9 logged a step
  /// twice.
  @Test func oneRunPerLogFile() throws {
    let r = try Recorded("one-log")
    try r.session.interpreter.run(
      "train m c steps: 3 total: 10 lr: 1 log: \"runs/new/pre.jsonl\" autosave: false")
    let log = r.dir + "/runs/new/pre.jsonl"
    #expect(try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").count == 3)
    try r.session.interpreter.run("save_state m \"at3.safetensors\"")
    let error = try #require(
      r.failure(
        "n = model \"svfap-nano\" seed: 4\ntrain n c steps: 1 lr: 1 log: \"runs/new/pre.jsonl\""))
    #expect(error.contains("already holds a run's steps") && error.contains("log_mode:"))
    // The running model continues its own log; a killed process leaves it ahead of the checkpoint.
    try r.session.interpreter.run("train m c steps: 2 autosave: false")
    let five = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
    #expect(five.count == 5)
    #expect(five[0].hasPrefix("{\"clipsPerSecond\":"))  // keys in a fixed (sorted) order
    try r.session.interpreter.run(
      "k = resume \"at3.safetensors\"\ntrain k c steps: 2 autosave: false")
    let steps = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map {
      try JSONDecoder().decode(StepLog.self, from: Data($0.utf8)).step
    }
    #expect(steps == [1, 2, 3, 4, 5])
    #expect(r.said("dropped 2 step(s) after 3").count == 1)
    // log_mode: "overwrite" empties it for a new run, and says so.
    try r.session.interpreter.run(
      """
      n = model "svfap-nano" seed: 4
      train n c steps: 1 lr: 1 log: "runs/new/pre.jsonl" log_mode: "overwrite" autosave: false
      """)
    #expect(try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").count == 1)
    #expect(r.said("log: emptied").count == 1)
  }

  /// Ranks compare one settings value, and say which field differs.
  @Test func settingsDifferencesAreNamed() throws {
    let model = try PretrainModel(try SVFAPConfig.preset("svfap-nano"))
    let a = Pretrainer(model: model, totalSteps: 400, batch: 1)
    let b = Pretrainer(model: model, totalSteps: 800, batch: 1, maskRatio: 0.75)
    let named = a.settings.differences(from: b.settings)
    #expect(
      named == [
        "maskRatio 0.9 ≠ 0.75", "schedule.totalSteps 400 ≠ 800", "schedule.warmupSteps 20 ≠ 40",
      ])
    let json = try JSONEncoder().encode(a.settings)
    #expect(try JSONDecoder().decode(RunSettings.self, from: json) == a.settings)
  }

  /// Finding 3: on a manifest without a split column (`svfap synth`'s default), `evaluate split:
  /// "test"` scored the training rows and `linear_probe` reported train_war == war. Now: evaluate
  /// refuses, naming the ways out; finetune says it takes every row; the probe says its rows and
  /// refuses identical ones unless asked.
  @Test func splitsAreNeverSilent() throws {
    let s = try SessionCommandTests.SyntheticSession()
    func failure(_ code: String) -> String? {
      do { try s.session.interpreter.run(code) } catch { return "\(error)" }
      return nil
    }
    let evaluate = try #require(
      failure("evaluate f \"expressions.csv\" split: \"test\" frames: 16 stride: 1"))
    #expect(evaluate.contains("no split column") && evaluate.contains("split: \"\""))
    #expect(evaluate.contains("--test-identities") && evaluate.contains("fold:"))
    let probe = try #require(failure("linear_probe f \"expressions.csv\" frames: 16 stride: 1"))
    #expect(probe.contains("no split column"))
    let same = try #require(
      failure("linear_probe f \"expressions.csv\" train: \"\" test: \"\" frames: 16 stride: 1"))
    #expect(same.contains("same 14 rows") && same.contains("same_rows: true"))
    #expect(s.out.contains { $0.contains("fit on 14 rows (split \"\" = all), scored on 14 rows") })
    try s.session.interpreter.run(
      "finetune f \"expressions.csv\" steps: 1 batch: 2 frames: 16 stride: 1 autosave: false")
    #expect(s.out.contains { $0.contains("no split column: training on all 14 rows") })
  }
}
