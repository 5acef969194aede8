import Datasets
import Media

/// Decodes the videos of manifest rows one by one under a policy for rows that fail: skip them
/// (reported) or stop the command.
public struct RowReader {
  /// What to do with a row whose video cannot be read.
  public let policy: ClipLoader.BadRowPolicy
  /// Called before each row (the workbench checks Ctrl-C here).
  public let beforeRow: () throws -> Void
  /// Where skipped rows are reported.
  public let report: (String) -> Void
  /// The face checks of face-cropped clips.
  public let faces: FaceChecks

  /// A reader with its policy, interruption check, report and face checks.
  public init(
    policy: ClipLoader.BadRowPolicy, beforeRow: @escaping () throws -> Void,
    report: @escaping (String) -> Void, faces: FaceChecks = FaceChecks(policy: .warn)
  ) {
    (self.policy, self.beforeRow, self.report, self.faces) = (policy, beforeRow, report, faces)
  }

  /// The clips `read` cuts from the row's video, judged by the face checks (nil when the row
  /// fails, or its faces are doubtful and the policy leaves it out).
  public func readClips(
    _ row: ManifestRow, of selection: DatasetSelection, _ read: (VideoReader) throws -> [Clip]
  ) throws -> [Clip]? {
    guard let clips = try self.read(row, of: selection, read) else { return nil }
    return try faces.keep(clips, path: row.path) ? clips : nil
  }

  /// Says the face checks' summary line, if any.
  public func sayFaceSummary() {
    if let line = faces.takeSummary() { report(line) }
  }

  /// `read` applied to the row's video; nil when it fails and the policy skips it.
  public func read<T>(
    _ row: ManifestRow, of selection: DatasetSelection, _ read: (VideoReader) throws -> T
  ) throws -> T? {
    try beforeRow()
    do {
      return try read(try VideoReader(path: selection.videoPath(row)))
    } catch let e as MediaError {
      guard policy == .skip else {
        throw ExperimentError(
          "\(MediaError.printable(row.path)): \(e.message) (on_error: \"skip\" to go on without it)",
          io: true)
      }
      report("skipped \(MediaError.printable(row.path)): \(e.message)")
      return nil
    }
  }

  /// `k` clips spread uniformly over a row's video (nil when skipped), each taken at `crops` places
  /// along the frame's long side (center crops only; the authors' test views are 2 × 2).
  public func clips(
    _ row: ManifestRow, of selection: DatasetSelection, spec: ClipSpec, k: Int, crops: Int = 1
  ) throws -> [Clip]? {
    let positions =
      crops <= 1 || spec.crop != .center
      ? [0.5] : (0..<crops).map { Double($0) / Double(crops - 1) }
    return try readClips(row, of: selection) { reader in
      let starts = ClipSampler.uniformStarts(
        k: k, frames: spec.frames, stride: spec.stride, frameCount: reader.info.frameCount)
      return try starts.flatMap { start in
        try positions.map { p in
          var s = spec
          s.cropPosition = p
          return try reader.clip(s, start: start)
        }
      }
    }
  }
}
