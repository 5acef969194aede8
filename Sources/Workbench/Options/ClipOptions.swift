import Datasets
import Experiments
import Media
import Script

/// The options every manifest command shares: where the videos are, how clips are cut, and what to
/// do with a row whose video fails.
struct ClipOptions {
  /// Their declarations.
  static let params: [Param] = [
    .option(
      "root", .string,
      "folder the manifest's paths are relative to (default: the manifest's folder)",
      default: .nilValue),
    .option("frames", .integer, "frames per clip", default: .number(16)).within(Limits.frames),
    .option("stride", .integer, "temporal stride", default: .number(4)).within(Limits.stride),
    .choice(
      "crop", ClipSpec.Crop.self, "how frames are cropped to the square input", default: .center),
    .choice(
      "detector", FaceDetectors.Kind.self,
      """
      with crop: "face": mtcnn (a CNN with landmarks; scripts/fetch-mtcnn) or haar (OpenCV's \
      cascade: frontal faces only, no weights to fetch)
      """,
      default: .mtcnn),
    .option(
      "align", .bool,
      """
      with crop: "face" and detector: "mtcnn": warp each frame so its five landmarks sit on a \
      canonical template, as load's align: (the landmarks are detected on each clip's frames)
      """,
      default: .bool(false)),
    .choice(
      "on_error", ClipLoader.BadRowPolicy.self,
      "a row whose video fails: skip it (reported) or stop", default: .skip),
    .choice(
      "on_bad_face", BadFacePolicy.self,
      """
      with crop: "face", a video with a face on under 80 % of sampled frames or a shot change in \
      a clip: keep it (warn), leave it out (skip) or stop; one summary line names the worst
      """,
      default: .warn),
  ]

  /// The clip recipe.
  let spec: ClipSpec
  /// The folder the manifest's paths are relative to (nil: the manifest's folder).
  let root: String?
  /// What to do with unreadable rows.
  let onError: ClipLoader.BadRowPolicy
  /// What to do with videos whose face crop is doubtful.
  let onBadFace: BadFacePolicy

  /// Reads the options of a call.
  init(_ a: Arguments, session: Session) throws {
    var s = ClipSpec()
    (s.frames, s.stride, s.crop) = (
      try a.int("frames"), try a.int("stride"), try a.choice("crop", as: ClipSpec.Crop.self)
    )
    s.faceReport = s.crop == .face
    s.detector = try a.choice("detector", as: FaceDetectors.Kind.self)
    s.align = try a.bool("align")
    if s.align && (s.crop != .face || s.detector != .mtcnn) {
      throw a.error(
        """
        align: true goes with crop: "face" and detector: "mtcnn" (it aligns the face's five \
        landmarks); got crop: "\(s.crop.rawValue)", detector: "\(s.detector.rawValue)"
        """)
    }
    spec = s
    root = try a.stringIfGiven("root").map(session.resolve)
    onError = try a.choice("on_error", as: ClipLoader.BadRowPolicy.self)
    onBadFace = try a.choice("on_bad_face", as: BadFacePolicy.self)
  }

  /// The rows a call works on: a manifest's split, or a fold (`foldIsTest`: the fold itself; else
  /// the rest).
  func select(
    _ a: Arguments, session: Session, manifest: String = "manifest", split: String,
    foldIsTest: Bool? = nil, allowVideo: Bool = false,
    missingSplit: DatasetSelection.MissingSplit = .refuse
  ) throws -> DatasetSelection {
    let path = session.resolve(try a.string(manifest))
    let fold = foldIsTest == nil ? nil : try a.intIfGiven("fold")
    return try a.located {
      try DatasetSelection(
        path: path, root: root, split: split, fold: fold, foldIsTest: foldIsTest ?? false,
        allowVideo: allowVideo, missingSplit: missingSplit)
    }
  }

  /// A reader of rows for this call: Ctrl-C checked before each row, skipped rows printed.
  func reader(_ a: Arguments, _ interp: Interpreter) -> RowReader {
    RowReader(
      policy: onError, beforeRow: { try Interrupt.check(at: a.location) },
      report: { interp.output($0) }, faces: FaceChecks(policy: onBadFace))
  }

  /// Says, once per call, that streamed clips skip the face checks (they are cut on worker threads
  /// as training goes).
  func noteStreamedFaces(_ interp: Interpreter) {
    guard spec.crop == .face else { return }
    interp.output(
      """
      note: streamed clips are face-cropped without the face checks (coverage, shot changes): \
      check the manifest once with clips(…, crop: "face") or features
      """)
  }
}
