import SVFAP
import Script
import Tensor

/// The clips and mask of a pretraining model's call: the mask option, or tube 0.9 with the
/// session's next seed, realized for the clip batch.
private func maskedInputs(
  _ a: Arguments, session: Session
) throws -> (ModelHandle, PretrainModel, TensorHandle, MaskHandle, TokenMask) {
  let (m, clip) = (
    try a.handle("model", as: ModelHandle.self), try a.handle("clip", as: TensorHandle.self)
  )
  let (model, _) = try m.pretraining(for: a)
  let recipe =
    a.has("mask")
    ? try a.handle("mask", as: MaskHandle.self)
    : MaskHandle(kind: .tube, ratio: 0.9, seed: session.nextSeed())
  let mask = try a.located {
    try recipe.realize(batch: clip.tensor.shape.first ?? 1, config: m.config)
  }
  return (m, model, clip, recipe, mask)
}

/// A note, once per clip, when a clip is cropped otherwise than the clips the model's weights were
/// pretrained on (their card's `crop`): aligned weights shown a box crop, or the reverse.
private func noteCropMismatch(_ m: ModelHandle, _ clip: TensorHandle, _ interp: Interpreter) {
  guard let crop = m.weightsCard?.crop, let handle = clip as? ClipHandle, !handle.cropNoteShown
  else { return }
  let c = handle.clip
  guard c.aligned != (crop == .aligned) else { return }
  handle.cropNoteShown = true
  let shown = c.aligned ? "an aligned face crop" : "a \(c.crop.rawValue) crop, not aligned"
  let weights = m.weightsFrom.map { "the weights (\($0))" } ?? "the weights"
  interp.output(
    """
    note: \(weights) were pretrained on \(crop.description) (their card), and this clip is \
    \(shown); for what they learned, load clips with `\(crop.loadOptions)`
    """)
}

/// `loss`: the pretraining loss of clips.
struct PretrainingLoss: SessionCommand {
  unowned let session: Session
  let declaration = CommandDeclaration(
    "loss", topic: "model",
    summary:
      "The pretraining loss (MSE on normalized pixels of the masked tubelets) of a model on clips.",
    params: [
      .positional("model", .handle("model"), "a pretraining model"),
      .positional("clip", .handle("clip"), "clips (B, 3, T, H, W)"),
      .option("mask", .handle("mask"), "the mask", default: .nilValue),
    ],
    returns: "number", example: "loss m clip mask: tube(0.9, seed: 2)")

  func run(_ a: Arguments, in interp: Interpreter) throws -> Value {
    let (m, model, clip, _, mask) = try maskedInputs(a, session: session)
    noteCropMismatch(m, clip, interp)
    return .number(
      try a.located { try withNoGrad { try model.loss(clip.tensor, mask: mask).loss.item() } })
  }
}

/// `reconstruct`: the autoencoder's predictions of the masked tubelets.
struct Reconstruct: SessionCommand {
  unowned let session: Session
  let declaration = CommandDeclaration(
    "reconstruct", topic: "model",
    summary:
      """
      Run the masked autoencoder on clips: predictions of the masked tubelets (normalized-pixel \
      target space), the targets, the loss and zero_loss: the loss of predicting zeros (the \
      trivial baseline a trained model must beat).
      """,
    params: [
      .positional("model", .handle("model"), "a pretraining model"),
      .positional("clip", .handle("clip"), "clips (B, 3, T, H, W)"),
      .option(
        "mask", .handle("mask"), "the mask (default: tube 0.9 with the session's next seed)",
        default: .nilValue),
    ],
    returns:
      """
      record {loss, zero_loss, prediction, target, mask, clip, model, model_state (the model when \
      it ran)}
      """,
    example: "r = reconstruct(m, clip, mask: tube(0.9, seed: 2))")

  func run(_ a: Arguments, in interp: Interpreter) throws -> Value {
    let (m, model, clip, recipe, mask) = try maskedInputs(a, session: session)
    noteCropMismatch(m, clip, interp)
    let (loss, output, target) = try a.located {
      try withNoGrad { try model.loss(clip.tensor, mask: mask) }
    }
    return .record(
      Record([
        ("loss", .number(try loss.item())),
        ("zero_loss", .number(try target.square().mean().item())),
        ("prediction", .handle(TensorHandle(output, kind: "prediction"))),
        ("target", .handle(TensorHandle(target, kind: "target"))), ("mask", .handle(recipe)),
        ("clip", .handle(clip)), ("model", .handle(m)), ("model_state", .string(m.figureName)),
      ]))
  }
}

/// `predict`: a fine-tuning model's outputs.
struct Predict: ScriptCommand {
  let declaration = CommandDeclaration(
    "predict", topic: "model",
    summary: "Outputs of a fine-tuning model on clips: one list per clip.",
    params: [
      .positional("model", .handle("model"), "a fine-tuning model"),
      .positional("clip", .handle("clip"), "clips (B, 3, T, H, W)"),
    ],
    returns: "list", example: "predict m clip")

  func run(_ a: Arguments, in interp: Interpreter) throws -> Value {
    let (m, clip) = (
      try a.handle("model", as: ModelHandle.self), try a.handle("clip", as: TensorHandle.self)
    )
    let (model, _) = try m.finetuning(for: a)
    model.train(false)
    let y = try a.located { try withNoGrad { try model(clip.tensor) } }  // (B, K)
    let (b, k) = (y.shape[0], y.shape[1])
    let v = y.toDoubles()
    return .list((0..<b).map { r in .list((0..<k).map { .number(v[r * k + $0]) }) })
  }
}
