import Foundation
import Media
import Script
import Tensor

/// Commands that read video (topic "video").
enum MediaCommands {
  static func register(into i: Interpreter, session: Session) {
    i.register(
      Command(
        "probe", topic: "video", summary: "Facts about a video file or frame folder: format, codec, size, fps, frame count (exact or estimated), duration.",
        params: [.positional("path", .string, "a video file or a folder of jpg/png frames")], returns: "record",
        example: "probe \"examples/media/single_face.mp4\""
      ) { [unowned session] a, _ in
        let path = session.resolve(try a.string("path"))
        let info: VideoInfo
        do { info = try VideoReader(path: path).info } catch let e as MediaError { throw ScriptError(.io, "probe: \(e)", at: a.location) }
        return .record(
          Record([
            ("format", .string(info.format)), ("codec", .string(info.codec)), ("width", .number(Double(info.width))),
            ("height", .number(Double(info.height))), ("fps", .number(info.fps)), ("frames", .number(Double(info.frameCount))),
            ("frames_exact", .bool(info.frameCountExact)), ("duration", .number(info.duration)),
          ]))
      })
    i.register(
      Command(
        "dataset", topic: "video", summary: "Read a benchmark's official layout into a manifest, or a manifest CSV file (docs/DATASETS.md).",
        params: [
          .positional("name", .string, "a reader (\(DatasetReaders.names.joined(separator: ", "))) or a manifest .csv"),
          .positional("root", .string, "the dataset's root folder (for a reader)", default: .string(".")),
        ],
        returns: "record {rows, labels, classes, paths}", example: "d = dataset \"ravdess\" \"/data/RAVDESS\""
      ) { [unowned session] a, _ in
        let name = try a.string("name")
        let m: Manifest
        do {
          if name.hasSuffix(".csv") || name.hasSuffix(".txt") {
            m = try Manifest.read(session.resolve(name)).manifest
          } else {
            m = try DatasetReaders.read(name, root: session.resolve(try a.string("root")))
          }
        } catch let e as MediaError { throw ScriptError(.io, "dataset: \(e)", at: a.location) }
        return .record(
          Record([
            ("rows", .number(Double(m.rows.count))), ("labels", .list(m.labelNames.map { .string($0) })),
            ("classes", .list(m.classNames.map { .string($0) })), ("paths", .list(m.rows.prefix(1000).map { .string($0.path) })),
          ]))
      })
    i.register(
      Command(
        "load", topic: "video",
        summary:
          "Read a clip from a video or frame folder: frames at a stride, resized and cropped, ImageNet-normalized (1, 3, T, H, W). Short videos repeat their last frame.",
        params: [
          .positional("path", .string, "a video file or a folder of frames"),
          .option("frames", .integer, "frames per clip", default: .number(16)).within(Limits.frames),
          .option("stride", .integer, "take every stride-th frame", default: .number(4)).within(Limits.stride),
          .option("size", .integer, "output height and width", default: .number(160)).within(Limits.size),
          .option(
            "crop", .string, "\"face\" (Haar face detection, smoothed box), \"center\" (short side to size, central square) or \"none\" (squash)",
            default: .string("center")),
          .option("start", .integer, "first frame (default: the clip centred in the video)", default: .nilValue).within(Limits.index),
          .option("face_fallback", .bool, "with crop: \"face\", use the center crop when no face is found instead of failing", default: .bool(false)),
        ],
        returns: "clip", example: "clip = load \"examples/media/single_face.mp4\" frames: 16 stride: 4"
      ) { [unowned session] a, _ in
        let path = session.resolve(try a.string("path"))
        var spec = ClipSpec()
        (spec.frames, spec.stride, spec.size) = (try a.int("frames"), try a.int("stride"), try a.int("size"))
        try Limits.checkClip([1, 3, spec.frames, spec.size, spec.size], a)
        guard let crop = ClipSpec.Crop(rawValue: try a.string("crop")) else {
          throw ScriptError(.runtime, "load: crop must be \(ClipSpec.Crop.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: " or "))", at: a.location)
        }
        spec.crop = crop
        spec.faceFallback = try a.bool("face_fallback")
        do {
          let clip = try VideoReader(path: path).clip(spec, start: a.has("start") ? try a.int("start") : nil)
          return .handle(ClipHandle(clip))
        } catch let e as MediaError {
          throw ScriptError(.io, "load: \(e)", at: a.location)
        }
      })
  }
}

/// A clip loaded from a video: the normalized tensor plus its frame indices and source.
public final class ClipHandle: TensorHandle {
  /// The clip.
  public let clip: Clip

  init(_ clip: Clip) {
    self.clip = clip
    super.init(clip.tensor, kind: "clip")
  }

  public override var summary: String {
    "clip \(tensor.shape) from \((clip.info.path as NSString).lastPathComponent), frames \(clip.frameIndices.first ?? 0)...\(clip.frameIndices.last ?? 0) step \(clip.frameIndices.count > 1 ? clip.frameIndices[1] - clip.frameIndices[0] : 0)"
  }
  public override var fieldNames: [String] { super.fieldNames + ["frames", "source", "crop_box"] }
  public override func field(_ name: String) -> Value? {
    switch name {
    case "frames": return .list(clip.frameIndices.map { .number(Double($0)) })
    case "source": return .string(clip.info.path)
    case "crop_box": return .list(clip.cropBox.map { .number(Double($0)) })
    default: return super.field(name)
    }
  }
}
