/// Multiply-add counts of one clip through a model, as the paper counts them (1 GFLOP = 1e9
/// multiply-adds of the matrix products: linear layers, convolutions as linear maps, attention's
/// two products; element-wise ops and norms are not counted).
public enum FLOPs {
  /// Multiply-adds of a linear map applied to n tokens.
  static func linear(_ n: Int, _ cin: Int, _ cout: Int) -> Double {
    Double(n) * Double(cin) * Double(cout)
  }

  /// Self-attention block (attention + MLP) on n tokens of width c.
  static func block(_ n: Int, _ c: Int, mlp: Double) -> Double {
    let h = Int(Double(c) * mlp)
    return linear(n, c, 3 * c) + 2 * Double(n) * Double(n) * Double(c) + linear(n, c, c)
      + linear(n, c, h) + linear(n, h, c)
  }

  /// Cross-self block: nq queries over nk context tokens, then self-attention and MLP on the
  /// queries.
  static func crossSelfBlock(_ nq: Int, _ nk: Int, _ c: Int, mlp: Double) -> Double {
    linear(nq, c, c) + linear(nk, c, 2 * c) + 2 * Double(nq) * Double(nk) * Double(c)
      + linear(nq, c, c) + block(nq, c, mlp: mlp)
  }

  /// The encoder on `perSlice` tokens in each of the clip's time slices.
  public static func encoder(_ cfg: SVFAPConfig, perSlice: Int) -> Double {
    let c = cfg.dim
    var total = linear(cfg.timeSlices * perSlice, cfg.valuesPerTubelet, c)
    for (s, (depth, n, g)) in cfg.stages(perSlice: perSlice).enumerated() {
      if s == 0 {
        total += Double(depth) * block(n, c, mlp: cfg.mlpRatio)
        continue
      }
      total += linear(n, c * cfg.temporalKernel, c)  // temporal Conv1d
      // scores
      total +=
        linear(n, c, cfg.bottleneckHidden) + linear(n, cfg.bottleneckHidden, cfg.bottleneckTokens)
      total += Double(g) * Double(perSlice) * Double(c)  // weighted sums
      total += Double(depth - 1) * crossSelfBlock(g, n, c, mlp: cfg.mlpRatio)
      total += crossSelfBlock(n, g, c, mlp: cfg.mlpRatio)  // reverse block
    }
    return total
  }

  /// Fine-tuning: the encoder on all tokens and the head.
  public static func finetune(_ cfg: SVFAPConfig) -> Double {
    encoder(cfg, perSlice: cfg.tokensPerSlice) + linear(1, cfg.dim, cfg.numClasses)
  }

  /// Pretraining at a mask ratio: tubelet embedding of every token (the paper's count: the authors'
  /// code embeds the whole clip before dropping the masked tokens; ours embeds only the visible
  /// ones,
  /// `embeddedTokensOnly`), encoder on the visible tokens, decoder on all tokens, head on the
  /// masked ones.
  public static func pretrain(
    _ cfg: SVFAPConfig, maskRatio: Double, embeddedTokensOnly: Bool = false
  ) -> Double {
    let masked = Int(maskRatio * Double(cfg.tokensPerSlice))
    let visible = cfg.tokensPerSlice - masked
    let n = cfg.tokenCount, nv = visible * cfg.timeSlices, nm = masked * cfg.timeSlices
    let embedAll = embeddedTokensOnly ? 0 : linear(n - nv, cfg.valuesPerTubelet, cfg.dim)
    return embedAll + encoder(cfg, perSlice: visible) + linear(nv, cfg.dim, cfg.decoderDim)
      + Double(cfg.decoderDepth) * block(n, cfg.decoderDim, mlp: cfg.mlpRatio)
      + linear(nm, cfg.decoderDim, cfg.valuesPerTubelet)
  }
}
