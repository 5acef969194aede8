extension SVFAPConfig {
  /// Where this architecture differs from `c` ("dim 96 ≠ 64"), field by field in the authors'
  /// names; fine-tuning settings (classes, head activation, drop path) do not count.
  public func architectureDifferences(from c: SVFAPConfig) -> [String] {
    let fields: [(String, String, String)] = [
      ("img_size", "\(imgSize)", "\(c.imgSize)"), ("patch_size", "\(patchSize)", "\(c.patchSize)"),
      ("tubelet", "\(tubelet)", "\(c.tubelet)"), ("in_chans", "\(inChans)", "\(c.inChans)"),
      ("frames", "\(frames)", "\(c.frames)"), ("dim", "\(dim)", "\(c.dim)"),
      ("heads", "\(heads)", "\(c.heads)"),
      ("mlp_ratio", "\(mlpRatio)", "\(c.mlpRatio)"),
      ("stage_depths", "\(stageDepths)", "\(c.stageDepths)"),
      ("temporal_kernel", "\(temporalKernel)", "\(c.temporalKernel)"),
      ("bottleneck_tokens", "\(bottleneckTokens)", "\(c.bottleneckTokens)"),
      ("bottleneck_hidden", "\(bottleneckHidden)", "\(c.bottleneckHidden)"),
      ("eps", "\(eps)", "\(c.eps)"),
      ("variant", variant?.rawValue ?? "paper", c.variant?.rawValue ?? "paper"),
      ("decoder_dim", "\(decoderDim)", "\(c.decoderDim)"),
      ("decoder_depth", "\(decoderDepth)", "\(c.decoderDepth)"),
      ("decoder_heads", "\(decoderHeads)", "\(c.decoderHeads)"),
    ]
    return fields.filter { $0.1 != $0.2 }.map { "\($0.0) \($0.1) ≠ \($0.2)" }
  }

  /// The preset whose architecture this is, if any.
  public var presetName: String? {
    SVFAPConfig.presetNames.first { name in
      (try? SVFAPConfig.preset(name)).map { architectureDifferences(from: $0).isEmpty } ?? false
    }
  }
}
