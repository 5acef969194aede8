import Tensor

/// The pretraining encoder: visible tokens only, every stage, then multi-scale fusion — each later
/// stage's output repeated in time back to the first stage's length (token t·V + v takes
/// y[(t / k^s)·V + v]) and summed with the first stage's output, then LayerNorm.
public final class PretrainEncoder: TPSBTEncoder {
  /// Norm after the multi-scale fusion.
  public let norm: LayerNorm

  init(_ c: SVFAPConfig, dtype: DType, seed: UInt64) throws {
    try c.validate()  // before any layer is sized from it
    var i = Init(dtype: dtype, rng: SplitMix64(seed: seed &+ 2))
    norm = LayerNorm(c.dim, eps: c.eps, &i)
    try super.init(encoder: c, dtype: dtype, seed: seed, linear: .xavierUniform)
  }

  /// Encodes the visible tokens of clips (B, 3, T, H, W) -> (B, T'·V, C).
  public func callAsFunction(_ video: Tensor, mask: TokenMask) throws -> Tensor {
    try checkVideo(video)
    let c = config
    guard mask.batch == video.shape[0], mask.tokenCount == c.tokenCount else {
      throw SVFAPError.badMask(
        """
        mask for \(mask.batch) clips of \(mask.tokenCount) tokens does not fit clips \
        \(video.shape) (\(c.tokenCount) tokens each)
        """
      )
    }
    // Embed only the visible tubelets: unfold just those, project.
    let w = patchEmbed.proj.weight
    let (b, p, kt, t) = (video.shape[0], c.patchSize, c.tubelet, c.timeSlices)
    // (B, Nv, 3·kt·P·P)
    let visible = try video.gatherBlocks(mask.visible, block: (kt, p, p))
    let pos = try sinusoidTable(count: c.tokenCount, dim: c.dim, dtype: video.dtype).expand(to: [
      b, c.tokenCount, c.dim,
    ])
    let x =
      try visible.linear(w.reshaped([c.dim, c.valuesPerTubelet]), patchEmbed.proj.bias)
      + pos.gatherRows(mask.visible)
    // The released code's reverse blocks attend to every tubelet's embedding, masked ones too.
    let context: Tensor? =
      c.variant == .released ? try patchEmbed(video) + pos : nil  // (B, N, C)
    let outs = try stages(x, slices: t, reverseContext: context)
    var fused = outs[0].tokens
    let v = mask.visiblePerSlice
    for (y, slices) in outs.dropFirst() {
      let factor = t / slices
      guard slices * factor == t else {
        throw SVFAPError.badConfig("\(t) time slices are not a multiple of a stage's \(slices)")
      }
      // The paper: slice s of the stage repeated `factor` times. The released code reshapes with
      // the stage's pre-downsampling length (slices·k rows of V/k tokens) and repeats those rows.
      let rows = c.variant == nil ? slices : slices * c.temporalKernel
      guard (slices * v) % rows == 0 else {
        throw SVFAPError.badConfig(
          """
          the released forward reshapes \(slices * v) tokens into \(rows) rows: it needs the \
          visible tokens per slice (\(v)) to be a multiple of the temporal kernel \
          (\(c.temporalKernel))
          """)
      }
      let up = try y.reshaped([b, rows, slices * v / rows, c.dim]).repeatInterleave(factor, axis: 1)
        .reshaped([b, t * v, c.dim])
      fused = try fused + up
    }
    return try norm(fused)
  }
}

/// The pretraining decoder: Blocks, LayerNorm, and a linear head to the pixel values of a tubelet.
public final class Decoder: Module {
  /// Decoder blocks.
  public let blocks: [Block]
  /// Final norm.
  public let norm: LayerNorm
  /// Linear map to 3·tubelet·P·P values.
  public let head: Linear

  init(_ c: SVFAPConfig, _ i: inout Init) {
    blocks = (0..<c.decoderDepth).map { _ in
      Block(c.decoderDim, heads: c.decoderHeads, mlpRatio: c.mlpRatio, eps: c.eps, dropPath: 0, &i)
    }
    norm = LayerNorm(c.decoderDim, eps: c.eps, &i)
    head = Linear(c.decoderDim, c.valuesPerTubelet, &i)
  }
}

/// The masked video autoencoder of SVFAP (paper-faithful): encoder on visible tokens, linear map to
/// the decoder width, mask tokens at the masked positions, the decoder's sinusoid table at every
/// position, decoder blocks, and predictions of the masked tubelets' normalized pixels.
public final class PretrainModel: Module {
  /// The encoder.
  public let encoder: PretrainEncoder
  /// Encoder width -> decoder width, no bias.
  public let encoderToDecoder: Linear
  /// The learned mask token (1, 1, decoder width).
  public let maskToken: Tensor
  /// The decoder.
  public let decoder: Decoder
  /// A generator kept in checkpoints for their format (the decoder has no drop path; masks come
  /// from the trainer).
  public var rng = SplitMix64(seed: 0)

  /// A freshly initialized model (`seed` fixes the initial weights).
  public init(_ c: SVFAPConfig, dtype: DType = .float32, seed: UInt64 = 0) throws {
    encoder = try PretrainEncoder(c, dtype: dtype, seed: seed)
    // encoder_to_decoder is built after the authors' apply(_init_weights): PyTorch's default init.
    var i = Init(dtype: dtype, rng: SplitMix64(seed: seed &+ 3), linear: .torchDefault)
    encoderToDecoder = Linear(c.dim, c.decoderDim, bias: false, &i)
    i.linear = .xavierUniform
    // VideoMAE's own trunc_normal_ cuts at ±std (a = −std, b = std), unlike timm's ±2.
    maskToken = i.truncNormal([1, 1, c.decoderDim], std: 0.02, bound: 0.02)
    decoder = Decoder(c, &i)
    super.init()
  }

  /// The architecture.
  public var config: SVFAPConfig { encoder.config }

  /// Predictions for the masked tubelets: (B, Nm, 3·tubelet·P·P), masked tokens in ascending order.
  public func callAsFunction(_ video: Tensor, mask: TokenMask) throws -> Tensor {
    let c = config
    let encoded = try encoder(video, mask: mask)  // (B, Nv, C)
    let e = try encoderToDecoder(encoded)  // (B, Nv, Cd)
    let b = video.shape[0]
    let pos = try sinusoidTable(count: c.tokenCount, dim: c.decoderDim, dtype: video.dtype).expand(
      to: [b, c.tokenCount, c.decoderDim])
    let visible = try e + pos.gatherRows(mask.visible)
    let hidden = try maskToken + pos.gatherRows(mask.masked)  // (B, Nm, Cd)
    var x = try Tensor.concat([visible, hidden], axis: 1)  // (B, N, Cd): visible first, then masked
    var rows = RowGenerators(seeds: [])  // the decoder's blocks have no drop path
    for block in decoder.blocks { x = try block(x, rows: &rows) }
    let nm = mask.masked[0].count
    let tail = try x.slice(axis: 1, start: x.shape[1] - nm, count: nm)
    return try decoder.head(decoder.norm(tail))
  }

  /// The pretraining loss on clips: MSE between the predictions and the normalized-pixel targets of
  /// the masked tubelets. Returns the loss, the predictions and the targets.
  public func loss(_ video: Tensor, mask: TokenMask) throws -> (
    loss: Tensor, output: Tensor, target: Tensor
  ) {
    let output = try self(video, mask: mask)
    let target = try normalizedPixelTargets(video, mask: mask, config: config)
    return (try output.mse(target), output, target)
  }
}
