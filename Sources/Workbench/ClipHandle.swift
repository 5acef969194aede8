import Foundation
import Media
import Script
import Tensor

/// A clip loaded from a video: the normalized tensor plus its frame indices and source.
public final class ClipHandle: TensorHandle {
  /// The clip.
  public let clip: Clip
  /// Whether a model's note that this clip is cropped otherwise than its training clips was shown
  /// (once per clip).
  var cropNoteShown = false

  init(_ clip: Clip) {
    self.clip = clip
    super.init(clip.tensor, kind: "clip")
  }

  public override var summary: String { "clip \(tensor.shape) from \(Figures.describe(clip))" }
  public override var fieldNames: [String] {
    super.fieldNames + ["frames", "source", "crop_box", "boxes", "face"]
  }
  public override func field(_ name: String) -> Value? {
    switch name {
    case "frames": return .list(clip.frameIndices.map { .number(Double($0)) })
    case "source": return .string(clip.info.path)
    case "crop_box": return .list(clip.cropBox.map { .number(Double($0)) })
    case "boxes":
      return .list(clip.sourceBoxes.map { .list($0.map { .number(($0 * 10).rounded() / 10) }) })
    case "face":
      guard let r = clip.faceReport else { return .nilValue }
      return .record(
        Record([
          ("found", .number(Double(r.withFace))), ("sampled", .number(Double(r.found.count))),
          ("fraction", .number(r.fraction)),
          (
            "cuts",
            .list(
              r.cuts.map {
                .list([r.frames[$0.before], r.frames[$0.after]].map { .number(Double($0)) })
              })
          ),
          ("movement", .number(r.movement)),
          ("off_face", .list(r.offFace.map { .number(Double(r.frames[$0])) })),
          ("warnings", .list(r.warnings.map { .string($0) })),
        ]))
    default: return super.field(name)
    }
  }
}
