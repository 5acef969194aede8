import Media
import Plot
import SVFAP
import Script
import Tensor

/// `show`: a clip, a reconstruction or a model's training curves as a figure.
struct Show: SessionCommand {
  unowned let session: Session
  let declaration = CommandDeclaration(
    "show", topic: "plot",
    summary:
      """
      Draw a value: a clip (montage of its frames, or with boxes: true its crop box on the \
      uncropped frames), faces' results (their frame with boxes and landmarks), a reconstruct result (original | masked | reconstruction | with visible \
      pasted per frame; in mode "normalized" original | masked | target | prediction; error_map: \
      true adds each hidden patch's error) or a trained model (loss with its running mean, lr, \
      grad norm, throughput).
      """,
    params: [
      .positional("value", .any, "a clip, a reconstruct result or a trained model"),
      .choice(
        "mode", Figures.ReconstructionMode.self,
        """
        reconstructions: patch-stats (un-normalize with the hidden patch's stats; uses hidden \
        information) or normalized (target space)
        """,
        default: .patchStatistics),
      .option(
        "frames", .list, "frames of a reconstruction to show",
        default: .list([0, 4, 8, 12].map { .number(Double($0)) })),
      .option(
        "text", .bool, "also print a text rendering (curves: printed unless text: false)",
        default: .bool(false)),
      .option(
        "name", .string,
        "models: the run's name in the legend (default: its log file's stem, or the preset)",
        default: .nilValue),
      .option(
        "boxes", .bool,
        "clips: the uncropped frames with the crop box drawn on each (red: no face found there)",
        default: .bool(false)),
      .option(
        "error_map", .bool,
        "reconstructions: add a panel of each hidden patch's squared error (the loss) over the frame",
        default: .bool(false)),
    ] + FigureOutput.params,
    returns: "nil (prints the figure's path)",
    example: "show reconstruct(m, clip, mask: tube(0.9, seed: 2))", rootOnly: true)

  func run(_ a: Arguments, in interp: Interpreter) throws -> Value {
    switch a["value"] {
    case .handle(let h as TensorHandle) where h.kind == "clip":
      let source = (h as? ClipHandle)?.clip
      if try a.bool("boxes") {
        guard let source else {
          throw a.error("this clip was not loaded from a video, so it has no crop boxes to draw")
        }
        return try FigureOutput.save(
          try a.located { try Figures.cropBoxes(source) }, a, interp, session: session)
      }
      return try FigureOutput.save(
        Figures.montage(h.tensor, source: source), a, interp, session: session)
    case .handle(let m as ModelHandle):
      guard let t = m.run, !t.log.isEmpty else {
        throw a.error("the model has no training log yet (train it first)")
      }
      return try FigureOutput.save(
        Figures.trainingCurves(
          [(m.runName(try a.stringIfGiven("name")), t.log)], title: "training of \(m.figureName)"),
        a, interp, session: session, text: true)
    case .record(let r) where r["landmarks"] != nil:
      return try FigureOutput.save(try faces([.record(r)], a), a, interp, session: session)
    case .list(let items) where !items.isEmpty && items.allSatisfy(FacesFigure.isFace):
      return try FigureOutput.save(try faces(items, a), a, interp, session: session)
    case .record(let r):
      return try FigureOutput.save(try reconstruction(r, a), a, interp, session: session)
    default:
      throw a.error(
        "cannot draw a \(a["value"].typeName) (a clip, a reconstruct result or a trained model)")
    }
  }

  /// The frame of `faces` results with their boxes (yellow) and landmarks (red).
  func faces(_ items: [Value], _ a: Arguments) throws -> Figure {
    guard case .record(let first) = items[0], case .string(let source)? = first["source"],
      case .number(let frame)? = first["frame"]
    else { throw a.error("these face records have no source and frame (make them with faces)") }
    return try a.located { try FacesFigure.figure(items, source: source, frame: Int(frame)) }
  }

  /// The figure of a reconstruct result, checked against its model's grid.
  func reconstruction(_ r: Record, _ a: Arguments) throws -> Figure {
    guard case .handle(let p as TensorHandle)? = r["prediction"],
      case .handle(let mk as MaskHandle)? = r["mask"],
      case .handle(let clip as TensorHandle)? = r["clip"],
      case .handle(let m as ModelHandle)? = r["model"]
    else {
      throw a.error("this record is not a reconstruct result")
    }
    let mode = try a.choice("mode", as: Figures.ReconstructionMode.self)
    let frames = try a.indices("frames", below: m.config.frames)
    return try a.located {
      let mask = try mk.realize(batch: clip.tensor.shape.first ?? 1, config: m.config)
      try Figures.check(
        reconstructionOf: clip.tensor, prediction: p.tensor, mask: mask, config: m.config)
      // The model as it was when it reconstructed (it may have trained since).
      var name = m.figureName
      if case .string(let s)? = r["model_state"] { name = s }
      return Figures.reconstruction(
        clip.tensor, prediction: p.tensor, mask: mask, config: m.config, mode: mode, frames: frames,
        errorMap: try a.bool("error_map"), frameNumbers: (clip as? ClipHandle)?.clip.frameIndices,
        model: name)
    }
  }
}

/// `show_mask`: which tubes a mask hides.
struct ShowMask: SessionCommand {
  unowned let session: Session
  let declaration = CommandDeclaration(
    "show_mask", topic: "plot",
    summary: "The first frame of each time slice with the masked tubes greyed.",
    params: [
      .positional("clip", .handle("clip"), "the clip"),
      .positional("mask", .handle("mask"), "the mask"),
      .option(
        "model", .handle("model"), "a model whose token grid to use (default: svfap-base's)",
        default: .nilValue),
    ] + FigureOutput.params,
    returns: "nil (prints the figure's path)", example: "show_mask clip tube(0.9, seed: 2)",
    rootOnly: true)

  func run(_ a: Arguments, in interp: Interpreter) throws -> Value {
    let clip = try a.handle("clip", as: TensorHandle.self),
      mk = try a.handle("mask", as: MaskHandle.self)
    let model = a.has("model") ? try a.handle("model", as: ModelHandle.self) : nil
    let fig = try a.located {
      let cfg = try model?.config ?? Figures.grid(for: clip.tensor)
      try Figures.check(clip: clip.tensor, fits: cfg)
      return Figures.maskFigure(
        clip.tensor, mask: try mk.realize(batch: 1, config: cfg), config: cfg,
        frameNumbers: (clip as? ClipHandle)?.clip.frameIndices
      ).0
    }
    return try FigureOutput.save(fig, a, interp, session: session)
  }
}
