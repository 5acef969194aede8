import Datasets
import Foundation
import Media

/// What a command does with a video whose face crop is doubtful (a face on too few sampled frames,
/// or a shot change inside a clip).
public enum BadFacePolicy: String, CaseIterable, Sendable {
  /// Keep it, named in the summary line.
  case warn
  /// Leave it out, named in the summary line.
  case skip
  /// Stop the command, naming the video.
  case stop
}

/// The face checks of one command's videos: each video's worst clip (face coverage, cuts) is
/// judged as it is read, and one summary line at the end names the worst videos.
public final class FaceChecks: @unchecked Sendable {  // `bad` and `checked` are guarded by `lock`
  /// The policy for doubtful videos.
  public let policy: BadFacePolicy
  private var bad: [(path: String, fraction: Double, problem: String)] = []
  private var checked = 0
  private let lock = NSLock()

  /// Checks under `policy`.
  public init(policy: BadFacePolicy) { self.policy = policy }

  /// Judges a video's clips (their face reports); false when the video is to be left out. Throws
  /// under `.stop`.
  public func keep(_ clips: [Clip], path: String) throws -> Bool {
    let reports = clips.compactMap(\.faceReport)
    guard !reports.isEmpty else { return true }
    let worst = reports.min { $0.fraction < $1.fraction } ?? reports[0]
    let cut = reports.first { !$0.cuts.isEmpty }
    var problems: [String] = []
    if worst.fraction < FaceCropReport.enoughFaces {
      problems.append("a face on \(Int((worst.fraction * 100).rounded())) % of sampled frames")
    }
    if let cut, let c = cut.cuts.first {
      problems.append(
        "a shot change between frames \(cut.frames[c.before]) and \(cut.frames[c.after])")
    }
    lock.lock()
    checked += 1
    if !problems.isEmpty { bad.append((path, worst.fraction, problems.joined(separator: ", "))) }
    lock.unlock()
    guard !problems.isEmpty else { return true }
    if policy == .stop {
      throw ExperimentError(
        """
        \(MediaError.printable(path)): \(problems.joined(separator: ", ")) (on_bad_face: "warn" \
        keeps it, "skip" leaves it out)
        """)
    }
    return policy == .warn
  }

  /// One line naming the doubtful videos since the last summary, worst first (nil when every video
  /// was fine or none had a face crop); the tally starts again.
  public func takeSummary() -> String? {
    lock.lock()
    defer {
      (bad, checked) = ([], 0)
      lock.unlock()
    }
    guard !bad.isEmpty else { return nil }
    let worst = bad.sorted { $0.fraction < $1.fraction }
    let named = worst.prefix(3).map { "\(MediaError.printable($0.path)) (\($0.problem))" }
    let what = policy == .skip ? "left out" : "kept (on_bad_face: \"skip\" leaves them out)"
    return
      "face crop: \(bad.count) of \(checked) videos doubtful, \(what); worst: "
      + named.joined(separator: "; ") + (bad.count > 3 ? "; …" : "")
  }
}
