import Tensor

/// The TPSBT encoder's weights and stages (temporal pyramid + spatial bottleneck Transformer).
/// Stage 1 is M1 Blocks; each later stage is a temporal Conv1d (t -> t/k), the spatial bottleneck
/// (S -> G tokens per slice), M_i − 1 cross-self blocks on the bottleneck tokens (context: the
/// stage's full-resolution tokens), and a reverse cross-self block whose queries are the
/// full-resolution tokens and whose context is the bottleneck tokens (paper Eq. 8). Blocks are
/// numbered over all stages, as in the authors' state_dict. With one stage it is a vanilla ViT.
public class TPSBTEncoder: Module {
  /// Tubelet embedding.
  public let patchEmbed: PatchEmbed
  /// All blocks of all stages (`Block` in stage 1, `CrossSelfBlock` after).
  public let blocks: [any EncoderBlock]
  /// One temporal Conv1d per stage after the first.
  public let temporalDownsamples: [TemporalConv]
  /// One spatial bottleneck per stage after the first.
  public let spatialDownsamples: [SpatialAttention]
  /// The architecture.
  public let config: SVFAPConfig
  /// Draws drop-path masks while training, unless `rowSeeds` are given.
  public var rng = SplitMix64(seed: 0)
  /// Per-sample seeds of the next training forward's drop-path coins, one per clip of its batch (a
  /// trainer sets them so a sample's coins do not depend on its batch); used once.
  public var rowSeeds: [UInt64]?

  /// The drop-path generators of a forward of `batch` clips: from `rowSeeds` when they fit, else
  /// drawn from `rng` (only when drop path can fire, so evaluation leaves `rng` alone).
  func rowGenerators(batch: Int) -> RowGenerators {
    defer { rowSeeds = nil }
    guard training, config.dropPath > 0 else { return RowGenerators(seeds: []) }
    if let seeds = rowSeeds, seeds.count == batch { return RowGenerators(seeds: seeds) }
    return RowGenerators(batch: batch, from: &rng)
  }

  init(encoder c: SVFAPConfig, dtype: DType, seed: UInt64, linear: LinearInit) throws {
    try c.validate()
    try MemoryEstimate.checkWeights(c, dtype: dtype)  // a configuration too large to build
    var i = Init(dtype: dtype, rng: SplitMix64(seed: seed), linear: linear)
    config = c
    patchEmbed = PatchEmbed(
      inChans: c.inChans, dim: c.dim, tubelet: c.tubelet, patch: c.patchSize, &i)
    let total = c.stageDepths.reduce(0, +)
    var list: [any EncoderBlock] = []
    for (s, depth) in c.stageDepths.enumerated() {
      for _ in 0..<depth {
        let dp = total > 1 ? c.dropPath * Double(list.count) / Double(total - 1) : 0
        if s == 0 {
          list.append(
            Block(c.dim, heads: c.heads, mlpRatio: c.mlpRatio, eps: c.eps, dropPath: dp, &i))
        } else {
          list.append(
            CrossSelfBlock(
              c.dim, contextDim: c.dim, heads: c.heads, mlpRatio: c.mlpRatio, eps: c.eps,
              dropPath: dp, &i))
        }
      }
    }
    blocks = list
    temporalDownsamples = (1..<max(c.stageDepths.count, 1)).map { _ in
      TemporalConv(c.dim, kernel: c.temporalKernel, &i)
    }
    spatialDownsamples = (1..<max(c.stageDepths.count, 1)).map { _ in
      SpatialAttention(
        c.dim, tokens: c.bottleneckTokens, hidden: c.bottleneckHidden, eps: c.eps, &i)
    }
    super.init()
  }

  /// Runs every stage on tokens (B, t·S, C) with t time slices; returns each stage's output with
  /// its number of time slices (the last is the encoder's output). `reverseContext` (the released
  /// code's defect) replaces the bottleneck tokens as the reverse cross-self blocks' context.
  func stages(_ x0: Tensor, slices t0: Int, reverseContext: Tensor? = nil) throws -> [(
    tokens: Tensor, slices: Int
  )] {
    var x = x0, t = t0, next = 0
    var rows = rowGenerators(batch: x0.shape[0])
    var outputs: [(Tensor, Int)] = []
    for (s, depth) in config.stageDepths.enumerated() {
      if s == 0 {
        for _ in 0..<depth {
          x = try blocks[next](x, context: nil, rows: &rows)
          next += 1
        }
      } else {
        let tp = temporalDownsamples[s - 1]
        x = try tp(x, slices: t)
        t /= tp.kernel
        let before = x  // (B, t·S, C)
        var z = try spatialDownsamples[s - 1](before, slices: t)  // (B, t·G, C)
        for _ in 0..<(depth - 1) {
          z = try blocks[next](z, context: before, rows: &rows)
          next += 1
        }
        // The released code's reverse block attends to `reverseContext` (every tubelet).
        x = try blocks[next](before, context: reverseContext ?? z, rows: &rows)
        next += 1
      }
      outputs.append((x, t))
    }
    return outputs
  }

  /// Checks a clip batch (B, 3, T, H, W) against the configuration.
  func checkVideo(_ video: Tensor) throws {
    let c = config
    let want = [c.inChans, c.frames, c.imgSize, c.imgSize]
    guard video.rank == 5, Array(video.shape.dropFirst()) == want else {
      throw TensorError.invalidArgument(
        op: "model input",
        message:
          "expected clips (B, \(want.map(String.init).joined(separator: ", "))), got \(video.shape)"
      )
    }
  }
}

/// The fine-tuning model: encoder on all tokens, mean over the last stage's tokens, fc_norm, linear
/// head, and an optional activation (sigmoid for personality, tanh for arousal/valence).
public final class FinetuneModel: TPSBTEncoder {
  /// Norm of the pooled feature.
  public let fcNorm: LayerNorm
  /// Linear head (classes or targets).
  public let head: Linear

  /// A freshly initialized model (`seed` fixes the initial weights).
  public init(_ c: SVFAPConfig, dtype: DType = .float32, seed: UInt64 = 0) throws {
    try c.validate()  // before any layer is sized from it
    let linear = LinearInit.truncNormal(std: 0.02)
    var i = Init(dtype: dtype, rng: SplitMix64(seed: seed &+ 1), linear: linear)
    fcNorm = LayerNorm(c.dim, eps: c.eps, &i)
    head = Linear(c.dim, c.numClasses, &i)
    try super.init(encoder: c, dtype: dtype, seed: seed, linear: linear)
    // The authors scale the head's initial weights by init_scale (0.001).
    try head.weight.assign(head.weight.affine(0.001))
  }

  /// Pooled, normalized features (B, C) of clips (B, 3, T, H, W).
  public func features(_ video: Tensor) throws -> Tensor {
    try checkVideo(video)
    let pos = sinusoidTable(count: config.tokenCount, dim: config.dim, dtype: video.dtype)
    let x = try patchEmbed(video) + pos  // (B, N, C)
    guard let last = try stages(x, slices: config.timeSlices).last?.tokens else {  // (B, t·S, C)
      throw SVFAPError.badConfig("the encoder has no stage")
    }
    return try fcNorm(last.mean(axis: 1))
  }

  /// Head outputs (B, numClasses) after the configured activation.
  public func callAsFunction(_ video: Tensor) throws -> Tensor {
    let y = try head(features(video))
    switch config.headActivation {
    case .sigmoid: return y.sigmoid()
    case .tanh: return y.tanh()
    case .relu: return y.relu()
    case nil: return y
    }
  }
}
