import Datasets
import Foundation
import Media
import Script

/// `probe`: facts about a video.
struct Probe: SessionCommand {
  unowned let session: Session
  let declaration = CommandDeclaration(
    "probe", topic: "video",
    summary:
      """
      Facts about a video file or frame folder: format, codec, size, fps, frame count (exact or \
      estimated), duration.
      """,
    params: [.positional("path", .string, "a video file or a folder of jpg/png frames")],
    returns: "record",
    example: "probe \"examples/media/single_face.mp4\"")

  func run(_ a: Arguments, in interp: Interpreter) throws -> Value {
    let path = session.resolve(try a.string("path"))
    let info = try a.located { try VideoReader(path: path).info }
    return .record(
      Record([
        ("format", .string(info.format)), ("codec", .string(info.codec)),
        ("width", .number(Double(info.width))),
        ("height", .number(Double(info.height))), ("fps", .number(info.fps)),
        ("frames", .number(Double(info.frameCount))),
        ("frames_exact", .bool(info.frameCountExact)), ("duration", .number(info.duration)),
      ]))
  }
}

/// `dataset`: a benchmark's layout or a manifest file, read into a manifest.
struct ReadDataset: SessionCommand {
  unowned let session: Session
  let declaration = CommandDeclaration(
    "dataset", topic: "video",
    summary:
      """
      Read a benchmark's official layout into a manifest, or a manifest CSV file \
      (docs/DATASETS.md).
      """,
    params: [
      .positional(
        "name", .string,
        "a reader (\(DatasetReaders.names.joined(separator: ", "))) or a manifest .csv"),
      .positional(
        "root", .string, "the dataset's root folder (for a reader)", default: .string(".")),
    ],
    returns:
      """
      record {rows, labels, classes, paths, values (a list per label: d.values.valence), splits \
      ("" where none)}
      """,
    example: "d = dataset \"ravdess\" \"/data/RAVDESS\"")

  func run(_ a: Arguments, in interp: Interpreter) throws -> Value {
    let name = try a.string("name"), root = session.resolve(try a.string("root"))
    let m = try a.located {
      name.hasSuffix(".csv") || name.hasSuffix(".txt")
        ? try Manifest.read(session.resolve(name)).manifest
        : try DatasetReaders.read(name, root: root)
    }
    // Each label's values as a column (`d.values.valence`), rows in the manifest's order.
    let columns = m.labelNames.enumerated().map { j, name in
      (name, Value.list(m.rows.map { .number(j < $0.labels.count ? $0.labels[j] : .nan) }))
    }
    return .record(
      Record([
        ("rows", .number(Double(m.rows.count))),
        ("labels", .list(m.labelNames.map { .string($0) })),
        ("classes", .list(m.classNames.map { .string($0) })),
        ("paths", .list(m.rows.map { .string($0.path) })),
        ("values", .record(Record(columns))),
        ("splits", .list(m.rows.map { .string($0.split ?? "") })),
      ]))
  }
}

/// `load`: one clip from a video.
struct LoadClip: SessionCommand {
  unowned let session: Session
  let declaration = CommandDeclaration(
    "load", topic: "video",
    summary:
      """
      Read a clip from a video or frame folder: frames at a stride, resized and cropped, \
      ImageNet-normalized (1, 3, T, H, W). Short videos repeat their last frame.
      """,
    params: [
      .positional("path", .string, "a video file or a folder of frames"),
      .option("frames", .integer, "frames per clip", default: .number(16)).within(Limits.frames),
      .option("stride", .integer, "take every stride-th frame", default: .number(4)).within(
        Limits.stride),
      .option("size", .integer, "output height and width", default: .number(160)).within(
        Limits.size),
      .choice(
        "crop", ClipSpec.Crop.self,
        """
        face (the face track's box: MTCNN by default), center (short side to size, central square) \
        or none (squash)
        """,
        default: .center),
      .option(
        "start", .integer, "first frame (default: the clip centred in the video)",
        default: .nilValue
      ).within(Limits.index),
      .choice(
        "detector", FaceDetectors.Kind.self,
        """
        with crop: "face": mtcnn (a CNN with landmarks; scripts/fetch-mtcnn) or haar (OpenCV's \
        cascade: frontal faces only, no weights to fetch)
        """,
        default: .mtcnn),
      .option(
        "face", .any,
        """
        with crop: "face" on a video with several faces: "largest" (seen longest and largest), \
        "center" (nearest the frame's centre) or N (the N-th largest, 0-based)
        """,
        default: .string("largest")),
      .option(
        "align", .bool,
        """
        with crop: "face" and detector: "mtcnn": warp each frame so its five landmarks sit on a \
        canonical template (smoothed over time) instead of the box crop
        """,
        default: .bool(false)),
      .option(
        "face_fallback", .bool,
        "with crop: \"face\", use the center crop when no face is found instead of failing",
        default: .bool(false)),
      .option(
        "avoid_cuts", .bool,
        """
        with crop: "face", when the clip runs across a shot cut take the nearest clip within one \
        shot instead (after the cut, or before it when the video ends too soon); when that still \
        shows a face on under 80 % of its frames, the best of 8 windows over the video
        """,
        default: .bool(false)),
      .option(
        "quiet", .bool, "do not print the face crop's warnings (they stay in clip.face)",
        default: .bool(false)),
    ],
    returns:
      """
      clip (face crops check themselves: clip.face has {found, sampled, fraction, cuts, movement, \
      off_face, warnings}, and the warnings are printed)
      """,
    example: "clip = load \"examples/media/single_face.mp4\" frames: 16 stride: 4")

  func run(_ a: Arguments, in interp: Interpreter) throws -> Value {
    let path = session.resolve(try a.string("path"))
    var spec = ClipSpec()
    (spec.frames, spec.stride, spec.size) = (
      try a.int("frames"), try a.int("stride"), try a.int("size")
    )
    try Limits.checkClip([1, 3, spec.frames, spec.size, spec.size], a)
    spec.crop = try a.choice("crop", as: ClipSpec.Crop.self)
    spec.faceFallback = try a.bool("face_fallback")
    spec.detector = try a.choice("detector", as: FaceDetectors.Kind.self)
    spec.align = try a.bool("align")
    let choice: FaceChoice?
    switch a["face"] {
    case .string(let word) where Int(word) == nil: choice = FaceChoice(word)
    case .number(let n) where n >= 0 && n < 1000 && n == n.rounded(): choice = .index(Int(n))
    default: choice = nil
    }
    guard let choice else {
      throw a.error(
        "face: must be \"largest\", \"center\" or a face's number 0, 1, …; got \(a["face"])")
    }
    spec.face = choice
    if spec.align && spec.crop != .face {
      throw a.error("align: true goes with crop: \"face\" (it aligns the face's landmarks)")
    }
    spec.faceReport = spec.crop == .face
    let start = try a.intIfGiven("start")
    let avoidCuts = try a.bool("avoid_cuts")
    if avoidCuts && spec.crop != .face {
      throw a.error("avoid_cuts: true needs crop: \"face\" (the face crop checks for cuts)")
    }
    let clip = try a.located { () throws -> Clip in
      let reader = try VideoReader(path: path)
      guard avoidCuts else { return try reader.clip(spec, start: start) }
      let (clip, moves) = try reader.clipWithinOneShot(spec, start: start)
      for m in moves { interp.output("load: " + m) }
      return clip
    }
    // A video with several faces: say which was taken and how to take another.
    if spec.crop == .face, clip.info.format != "image folder",
      let track = try? FaceTrackCache.shared.track(
        for: try VideoReader(path: path), detector: try FaceDetectors.finder(spec.detector),
        choice: spec.face),
      let faces = track.faces, faces > 1
    {
      interp.output(
        """
        load: \(faces) faces tracked in \((path as NSString).lastPathComponent); took \
        \(spec.face == .largest ? "the largest" : spec.face == .center ? "the most central" : "face \(spec.face)") \
        (face: "largest", "center" or 0…\(faces - 1) takes another)
        """)
    }
    if let report = clip.faceReport, !(try a.bool("quiet")) {
      for w in report.warnings {
        interp.output("warning: \((path as NSString).lastPathComponent): \(w)")
      }
    }
    return .handle(ClipHandle(clip))
  }
}

/// `clips`: one clip of every row of a manifest.
struct LoadManifestClips: SessionCommand {
  unowned let session: Session
  let declaration = CommandDeclaration(
    "clips", topic: "video",
    summary:
      "Load one clip of every row of a manifest (small datasets: for train on unlabeled clips).",
    params: [
      .positional("manifest", .string, "a manifest .csv"),
      .option("split", .string, "rows to load (\"\" = all)", default: .string("")),
    ]
      + ClipOptions.params,
    returns: "list of clips", example: "xs = clips \"examples/unlabeled.csv\" crop: \"face\"")

  func run(_ a: Arguments, in interp: Interpreter) throws -> Value {
    let options = try ClipOptions(a, session: session)
    let selection = try options.select(a, session: session, split: try a.string("split"))
    let reader = options.reader(a, interp)
    var out: [Value] = []
    for r in selection.rows {
      if let clip = try a.located({
        try reader.readClips(r, of: selection) { [try $0.clip(options.spec)] }
      })?.first {
        out.append(.handle(ClipHandle(clip)))
      }
    }
    reader.sayFaceSummary()
    return .list(out)
  }
}
