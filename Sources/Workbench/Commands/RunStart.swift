import Experiments
import Foundation
import SVFAP
import SafeFiles
import Script

/// How a training call meets its model's run: a new run says its schedule, warns of a peak rate
/// too small to train and refuses another run's log file; a continuing call refuses the options
/// that only a new run takes; any call running past the schedule's end says so once.
struct RunStart {
  let a: Arguments
  let interp: Interpreter

  /// The options both commands take that set a new run's schedule.
  static let scheduleOptions = ["lr", "total", "total_epochs", "warmup", "warmup_epochs"]

  /// Below this peak rate (after batch scaling) a run barely moves the weights.
  static let smallestUsefulPeakLR = 1e-5

  /// Refuses a continuing call given options (among `names`) that only a new run takes and whose
  /// value `differs` from the run's, naming them, the run and the two ways out.
  func refuseNewRunOptions(
    continuing run: TrainingRunState, names: [String], differs: (String) throws -> Bool
  ) throws {
    let changed = try names.filter { try a.wasGiven($0) && differs($0) }
    guard !changed.isEmpty else { return }
    let given = changed.map { "\($0): \(a[$0])" }.joined(separator: ", ")
    throw a.error(
      """
      \(given) \(changed.count == 1 ? "sets" : "set") a new run, but this model continues its \
      run at step \(run.step) (\(run.settings.scheduleLine)): pass restart: true to start a new \
      run with \(changed.count == 1 ? "it" : "them"), or drop \
      \(changed.count == 1 ? "it" : "them") to continue
      """)
  }

  /// What a new run says: its schedule, and a warning when its peak rate cannot train.
  func announce(_ run: TrainingRunState, kind: String) {
    let s = run.settings
    interp.output("new \(kind) run: \(s.scheduleLine)")
    let peak = s.schedule.peakLR
    guard peak < Self.smallestUsefulPeakLR else { return }
    let clips = max(s.schedule.batch, 1), unit = s.task == nil ? "clip" : "video"
    let suggested = 1e-3 * 256 / Double(clips)
    interp.output(
      """
      warning: a peak lr of \(Value.format(peak)) barely moves the weights (lr: is per 256 \
      \(unit)s and this run updates on \(clips) \(unit)\(clips == 1 ? "" : "s")): pass a larger \
      lr: (lr: \(Value.format(suggested)) gives a peak of 0.001)
      """)
  }

  /// Warns, once per run, when this call's steps go past the end of the run's schedule.
  func warnPastSchedule(_ run: TrainingRunState, steps: Int) {
    let s = run.settings.schedule
    guard steps > 0, run.step + steps > s.totalSteps, !run.warnedPastSchedule else { return }
    run.warnedPastSchedule = true
    let first = max(run.step, s.totalSteps) + 1
    interp.output(
      """
      warning: step \(first) of a \(s.totalSteps)-step schedule: from there the lr stays at its \
      minimum \(Value.format(s.endLR)) (restart: true with a larger total: starts a longer run)
      """)
  }

  /// The batch a continuing call updates on, when its lr was scaled for another: said, since the
  /// rate keeps the run's scaling.
  func noteBatchChange(_ run: TrainingRunState, clipsPerUpdate: Int) {
    let settings = run.settings, scaled = settings.schedule.batch
    guard clipsPerUpdate != scaled else { return }
    let unit = settings.task == nil ? "clips" : "videos"
    interp.output(
      """
      note: this call updates on \(clipsPerUpdate) \(unit), the run's lr was scaled for \(scaled) \
      (its first call): the rate keeps that scaling (restart: true rescales)
      """)
  }

  /// A new run's log file: an existing, non-empty one is refused unless `log_mode` says what to do
  /// with it ("overwrite" empties it, "append" adds this run after it, said); the folder is made.
  func prepareLog(_ path: String?, newRun: Bool) throws {
    guard let path else { return }
    let folder = (path as NSString).deletingLastPathComponent
    do {
      try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    } catch {
      throw a.error("log: cannot make the folder \(SafeFile.printable(folder))", io: true)
    }
    guard newRun else { return }
    let size =
      (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int).flatMap { $0 } ?? 0
    guard size > 0 else { return }
    switch try a.choice("log_mode", as: LogMode.self) {
    case .new:
      throw a.error(
        """
        log: \(SafeFile.printable(path)) already holds a run's steps, and one log file holds one \
        run (its curves would jump back to step 1): choose another file, or pass \
        log_mode: "overwrite" (empty it) or log_mode: "append" (add this run after it)
        """)
    case .overwrite:
      do { try SafeFile.writeAtomically(Data(), to: path) } catch {
        throw a.error("log: cannot empty \(SafeFile.printable(path)): \(error.reason)", io: true)
      }
      interp.output("log: emptied \(SafeFile.printable(path)) for the new run")
    case .append:
      interp.output(
        "log: appending the new run to \(SafeFile.printable(path)), which holds another run's steps"
      )
    }
  }
}
