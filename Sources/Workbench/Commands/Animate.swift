import Media
import Script

/// `animate`: a still set in motion, for pretraining on photographs.
struct Animate: SessionCommand {
  unowned let session: Session
  let declaration = CommandDeclaration(
    "animate", topic: "video",
    summary:
      """
      A moving shot of one frame of a loaded clip (a photograph loaded with frames: 1, say): the \
      frame drawn through a smooth random camera path — turn up to strength × 10°, zoom (1.1 by \
      default) ± strength × 0.08, shift up to strength × 6 % of the side, edges repeated — so \
      stills can join video in pretraining. zoom: 1 keeps the face at the size its crop gave it \
      (aligned crops, whose faces sit on the template).
      """,
    params: [
      .positional("clip", .handle("clip"), "a loaded clip"),
      .option("frames", .integer, "frames of the result", default: .number(16)).within(
        Limits.frames),
      .option("frame", .integer, "which frame of the clip to animate", default: .number(0))
        .within(Limits.index),
      .option("strength", .number, "how far the camera moves (0 = a still)", default: .number(1))
        .within(0...3),
      .option(
        "zoom", .number,
        "the zoom the path moves about (> 1 shows less, hiding the repeated edges)",
        default: .number(Clip.defaultAnimationZoom)
      ).within(0.5...2),
      .option(
        "seed", .integer, "seed of the path (default: the session's next seed)", default: .nilValue
      )
      .within(Limits.seed),
    ],
    returns: "clip",
    example: "still = animate(load(\"face.jpg\", frames: 1, crop: \"face\"), seed: 3)")

  func run(_ a: Arguments, in interp: Interpreter) throws -> Value {
    let source = try a.handle("clip", as: ClipHandle.self)
    let frames = try a.int("frames"), frame = try a.int("frame")
    let shape = source.tensor.shape
    try Limits.checkClip([1, 3, frames, shape[3], shape[4]], a)
    guard frame < shape[2] else {
      throw a.error("frame \(frame) is past the clip's \(shape[2]) frames (0…\(shape[2] - 1))")
    }
    let seed = a.has("seed") ? try a.seed("seed") : session.nextSeed()
    let clip = try a.located {
      try source.clip.animated(
        from: frame, frames: frames, strength: try a.number("strength"), zoom: try a.number("zoom"),
        seed: seed)
    }
    return .handle(ClipHandle(clip))
  }
}
