import Datasets
import Media
import SVFAP
import Tensor

/// Training data of a manifest's chosen rows, checked against the model before any video is
/// decoded.
public enum TrainingData {
  /// Checks the rows' labels against a fine-tuning head of `outputs` outputs: class indices below
  /// it, or exactly that many targets per row.
  public static func checkLabels(_ selection: DatasetSelection, outputs: Int, manifestPath: String)
    throws
  {
    if selection.isClassification {
      do {
        try selection.chosen.validateClasses(outputs, path: manifestPath)
      } catch let e as MediaError {
        throw ExperimentError("\(e.message) (the model has \(outputs) classes)")
      }
    } else if let bad = selection.rows.first(where: { $0.labels.count != outputs }) {
      throw ExperimentError(
        "\(bad.path) has \(bad.labels.count) targets, the model's head has \(outputs)")
    }
  }

  /// Refuses, before any video is decoded, to keep more clips in memory than fit in three quarters
  /// of the memory available (the rest is the model's): a large manifest must be streamed.
  /// `available` defaults to the machine's; no check when unknown.
  public static func checkMemory(
    rows: Int, views: Int, spec: ClipSpec, available: Double? = MemoryEstimate.availableBytes()
  ) throws {
    let bytes =
      4 * Double(rows) * Double(max(views, 1)) * Double(spec.frames) * 3 * Double(spec.size)
      * Double(spec.size)
    guard let available, bytes > 0.75 * available else { return }
    throw ExperimentError(
      """
      keeping \(rows) videos × \(views) view\(views == 1 ? "" : "s") in memory needs \
      \(MemoryEstimate.gigabytes(bytes)) GB, more than three quarters of the \
      \(MemoryEstimate.gigabytes(available)) GB available: stream them from disk (stream: true)
      """)
  }

  /// Clips kept in memory: per readable video, `views` clips spread over it (1: the centred clip)
  /// and the row's labels; each draw of the video takes one of its views, so its temporal position
  /// varies. Unreadable rows follow the reader's policy.
  public static func inMemory(
    _ selection: DatasetSelection, spec: ClipSpec, views: Int, reader: RowReader
  ) throws -> (views: [[Tensor]], targets: [[Double]]) {
    try checkMemory(rows: selection.rows.count, views: views, spec: spec)
    var clips: [[Tensor]] = [], targets: [[Double]] = []
    for r in selection.rows {
      let decoded = try reader.readClips(r, of: selection) { video in
        views == 1
          ? [try video.clip(spec)]
          : try ClipSampler.uniformStarts(
            k: views, frames: spec.frames, stride: spec.stride, frameCount: video.info.frameCount
          ).map {
            try video.clip(spec, start: $0)
          }
      }
      guard let decoded else { continue }
      clips.append(decoded.map(\.tensor))
      targets.append(r.labels)
    }
    reader.sayFaceSummary()
    return (clips, targets)
  }
}
