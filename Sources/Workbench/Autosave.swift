import Foundation
import SVFAP

/// Periodic checkpoints of every training run of a session, so that a process that dies (kill -9,
/// out of memory, a bug) loses at most `everySteps` steps or `everySeconds` of training. Each run
/// is written to its own file in the session's folder, in the format of `save_state` (`resume`
/// reads it), through the same atomic write: a reader finds the previous autosave or the new one,
/// never a part of one.
public final class Autosave {
  /// The session's folder (created at the first autosave).
  public let folder: String
  /// Save a run after this many steps since its last autosave…
  public var everySteps = 100
  /// …or this many seconds, whichever comes first.
  public var everySeconds = 300.0
  /// Off: no autosaves (`set autosave: false`).
  public var enabled = true
  /// Per run: file, step and time of the last autosave.
  private var last: [ObjectIdentifier: (path: String, step: Int, time: Double)] = [:]
  private var files = 0

  /// A session folder under `root`: `YYYYMMDD-HHMMSS-PID`. Temporary files of saves killed in
  /// earlier sessions under `root` are removed first.
  public init(root: String) {
    let stamp = DateFormatter()
    stamp.dateFormat = "yyyyMMdd-HHmmss"
    stamp.timeZone = TimeZone(identifier: "UTC")
    folder = root + "/" + stamp.string(from: Date()) + "-\(getpid())"
    for sub in (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [] {
      removeStaleTemporaries(in: root + "/" + sub)
    }
  }

  /// The default root: $SVFAP_AUTOSAVE_DIR, else $XDG_STATE_HOME/svfap/autosave, else
  /// ~/.local/state/svfap/autosave.
  public static var defaultRoot: String {
    let env = ProcessInfo.processInfo.environment
    if let dir = env["SVFAP_AUTOSAVE_DIR"], !dir.isEmpty { return dir }
    if let state = env["XDG_STATE_HOME"], !state.isEmpty { return state + "/svfap/autosave" }
    return (env["HOME"] ?? NSTemporaryDirectory()) + "/.local/state/svfap/autosave"
  }

  /// Called after every step of `run`: writes its checkpoint when one is due. Returns the path
  /// written, if any. A failed autosave does not stop training; it is returned as an error message
  /// instead.
  func stepped(_ run: TrainingRun, name: String, force: Bool = false) -> Result<String, SVFAPError>?
  {
    guard enabled else { return nil }
    let key = ObjectIdentifier(run), now = ProcessInfo.processInfo.systemUptime
    let previous = last[key]
    let due =
      force || run.step - (previous?.step ?? 0) >= everySteps
      || now - (previous?.time ?? now) >= everySeconds
    guard due, run.step > (previous?.step ?? 0) else {
      if previous == nil { last[key] = (path: "", step: 0, time: now) }
      return nil
    }
    let path: String
    if let p = previous?.path, !p.isEmpty {
      path = p
    } else {
      files += 1
      path = folder + "/\(files)-\(name).safetensors"
    }
    last[key] = (path: path, step: run.step, time: now)
    do {
      try run.save(to: path)
      return .success(path)
    } catch let e as SVFAPError {
      return .failure(e)
    } catch {
      return .failure(.badFile(path: path, message: "\(error)"))
    }
  }
}
