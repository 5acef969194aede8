import Tensor

/// The architecture of an SVFAP model: encoder (TPSBT, or a plain ViT when there is one stage),
/// decoder for pretraining, and head for fine-tuning. Field names follow the paper; `presets` holds
/// its variants.
public struct SVFAPConfig: Codable, Sendable, Equatable {
  /// Frame height and width in pixels.
  public var imgSize = 160
  /// Patch height and width in pixels.
  public var patchSize = 16
  /// Frames per tubelet.
  public var tubelet = 2
  /// Input channels.
  public var inChans = 3
  /// Frames per clip.
  public var frames = 16
  /// Encoder width C.
  public var dim = 512
  /// Encoder attention heads.
  public var heads = 8
  /// MLP hidden width / C.
  public var mlpRatio = 4.0
  /// Blocks per stage (M1, M2, M3); a single stage is a vanilla ViT.
  public var stageDepths = [12, 6, 3]
  /// Kernel = stride of the temporal pyramid's Conv1d.
  public var temporalKernel = 2
  /// Bottleneck tokens G per time slice.
  public var bottleneckTokens = 8
  /// Hidden width of the bottleneck's scoring MLP.
  public var bottleneckHidden = 128
  /// LayerNorm epsilon.
  public var eps = 1e-6
  /// Decoder width.
  public var decoderDim = 384
  /// Decoder blocks.
  public var decoderDepth = 4
  /// Decoder heads.
  public var decoderHeads = 6
  /// Fine-tuning outputs (classes or regression targets).
  public var numClasses = 7
  /// Activation after the fine-tuning head (nil: none).
  public var headActivation: HeadActivation? = nil
  /// Drop-path rate (stochastic depth), increased linearly over the encoder's blocks.
  public var dropPath = 0.0
  /// Which pretraining forward: the paper's (nil), or the authors' released code with its defects
  /// (SPEC "Known defects"), for running their released checkpoint as it was trained.
  public var variant: ModelVariant? = nil

  /// The authors' fine-tuning drop-path default (`run_class_finetuning.py --drop_path 0.1`).
  public static let finetuneDropPath = 0.1

  /// A configuration with every default (TPSBT-B).
  public init() {}

  /// Patches per frame side.
  public var gridSide: Int { imgSize / patchSize }
  /// Spatial tokens per time slice (H'·W').
  public var tokensPerSlice: Int { gridSide * gridSide }
  /// Time slices T' of a clip.
  public var timeSlices: Int { frames / tubelet }
  /// Tokens per clip.
  public var tokenCount: Int { timeSlices * tokensPerSlice }
  /// Pixel values per tubelet (3·tubelet·P·P).
  public var valuesPerTubelet: Int { inChans * tubelet * patchSize * patchSize }
  /// Whether the encoder is a vanilla ViT (one stage).
  public var isVanilla: Bool { stageDepths.count == 1 }

  /// The encoder's stages on `perSlice` tokens per time slice, as it runs them: each stage's
  /// depth, tokens and bottleneck tokens (stage 0 on every time slice, no bottleneck; each later
  /// stage after one more temporal step of `temporalKernel`).
  public func stages(perSlice: Int) -> [(depth: Int, tokens: Int, bottleneck: Int)] {
    var t = timeSlices
    return stageDepths.enumerated().map { s, depth in
      if s > 0 { t /= max(temporalKernel, 1) }
      return (depth, t * perSlice, s == 0 ? 0 : t * bottleneckTokens)
    }
  }

  /// Weights of the Transformer blocks' linear layers and the tubelet embedding (norms, biases
  /// and the bottlenecks' small MLPs left out), with the decoder's when `decoder`.
  public func linearWeightCount(decoder: Bool) -> Double {
    func blocks(_ count: Int, _ width: Int) -> Double {
      let w = Double(width)
      return Double(count) * (4 * w * w + 2 * w * w * mlpRatio)
    }
    var total = blocks(stageDepths.reduce(0, +), dim) + Double(valuesPerTubelet * dim)
    if decoder { total += blocks(decoderDepth, decoderDim) + Double(decoderDim * valuesPerTubelet) }
    return total
  }

  /// The presets by name: the paper's two TPSBT variants, the vanilla ViT baseline, a tiny model,
  /// and a nano model for tests and fuzzing.
  public static let presets: [String: SVFAPConfig] = {
    var base = SVFAPConfig()
    base.stageDepths = [12, 6, 3]
    var small = SVFAPConfig()
    small.dim = 384
    small.heads = 6
    small.stageDepths = [8, 4, 2]
    var vit = SVFAPConfig()
    vit.stageDepths = [24]
    var tiny = SVFAPConfig()
    tiny.dim = 96
    tiny.heads = 3
    tiny.stageDepths = [2, 2, 2]
    tiny.bottleneckTokens = 4
    tiny.bottleneckHidden = 128  // the authors hard-code 128 (SpatialAttention bottleneck_dim)
    tiny.decoderDim = 96
    tiny.decoderDepth = 1
    tiny.decoderHeads = 3
    // The smallest model of the family (32 px, 4 frames, two stages): for tests and the session
    // fuzzer.
    // The authors' released VoxCeleb2 pretraining model (scripts/voxceleb2/pretrain_svfap_base.sh):
    // 768 wide, 12 heads, their released forward.
    var released = SVFAPConfig()
    (released.dim, released.heads, released.variant) = (768, 12, .released)
    var nano = SVFAPConfig()
    (nano.imgSize, nano.patchSize, nano.frames, nano.dim, nano.heads) = (32, 8, 4, 24, 2)
    (nano.stageDepths, nano.bottleneckTokens, nano.bottleneckHidden) = ([1, 1], 2, 16)
    (nano.decoderDim, nano.decoderDepth, nano.decoderHeads) = (16, 1, 2)
    return [
      "svfap-base": base, "svfap-small": small, "vit-base-512": vit, "svfap-tiny": tiny,
      "svfap-nano": nano, "svfap-base-released": released,
    ]
  }()

  /// Preset names, sorted.
  public static var presetNames: [String] { presets.keys.sorted() }

  /// The preset called `name`, or an error that lists the known names.
  public static func preset(_ name: String) throws -> SVFAPConfig {
    guard let c = presets[name] else {
      throw SVFAPError.unknownPreset(name, known: presetNames)
    }
    return c
  }

  /// Checks that the sizes fit together; throws a message naming the field.
  public func validate() throws {
    func fail(_ m: String) throws -> Never { throw SVFAPError.badConfig(m) }
    // Every size in range first (a state file's config is edited text): nothing below divides by
    // zero, overflows or asks for more memory than a model of this family can sensibly need.
    let bounds: [(String, Int, ClosedRange<Int>)] = [
      ("imgSize", imgSize, 1...4096), ("patchSize", patchSize, 1...512),
      ("tubelet", tubelet, 1...64), ("inChans", inChans, 1...16),
      ("frames", frames, 1...1024), ("dim", dim, 1...8192), ("heads", heads, 1...256),
      ("temporalKernel", temporalKernel, 1...64),
      ("bottleneckTokens", bottleneckTokens, 1...4096),
      ("bottleneckHidden", bottleneckHidden, 1...65536), ("decoderDim", decoderDim, 1...8192),
      ("decoderDepth", decoderDepth, 0...64), ("decoderHeads", decoderHeads, 1...256),
      ("numClasses", numClasses, 1...100_000),
      ("stages", stageDepths.count, 1...8),
    ]
    for (name, value, range) in bounds where !range.contains(value) {
      try fail("\(name) \(value) is outside \(range.lowerBound)...\(range.upperBound)")
    }
    if let bad = stageDepths.first(where: { !(1...128).contains($0) }) {
      try fail("stage depth \(bad) is outside 1...128")
    }
    if !(mlpRatio.isFinite && mlpRatio > 0 && mlpRatio <= 64) {
      try fail("mlpRatio \(mlpRatio) is outside (0, 64]")
    }
    if !(eps.isFinite && eps > 0 && eps < 1) { try fail("eps \(eps) is outside (0, 1)") }
    if !(dropPath.isFinite && dropPath >= 0 && dropPath < 1) {
      try fail("dropPath \(dropPath) is outside [0, 1)")
    }
    let weights = linearWeightCount(decoder: true)
    if weights > 4e9 {
      try fail(
        """
        about \(Int(weights / 1e6)) M weights: more than 4000 M, which no machine this runs on \
        can hold
        """
      )
    }
    if patchSize <= 0 || imgSize % patchSize != 0 {
      try fail("imgSize \(imgSize) is not a multiple of patchSize \(patchSize)")
    }
    if tubelet <= 0 || frames % tubelet != 0 {
      try fail("frames \(frames) is not a multiple of tubelet \(tubelet)")
    }
    if heads <= 0 || dim % heads != 0 { try fail("dim \(dim) is not a multiple of heads \(heads)") }
    if decoderHeads <= 0 || decoderDim % decoderHeads != 0 {
      try fail("decoderDim \(decoderDim) is not a multiple of decoderHeads \(decoderHeads)")
    }
    if stageDepths.isEmpty || stageDepths.contains(where: { $0 < 1 }) {
      try fail("stageDepths \(stageDepths) must be positive")
    }
    if stages(perSlice: 1).contains(where: { $0.tokens < 1 }) {
      try fail(
        """
        \(timeSlices) time slices cannot pass \(stageDepths.count - 1) temporal pyramid steps \
        of \(temporalKernel)
        """
      )
    }
  }
}

/// Errors of the model layer, each naming what was wrong.
public enum SVFAPError: Error, CustomStringConvertible {
  /// A preset name that does not exist.
  case unknownPreset(String, known: [String])
  /// An inconsistent configuration.
  case badConfig(String)
  /// A checkpoint or fixture file that cannot be used.
  case badFile(path: String, message: String)
  /// A mask that does not fit the model.
  case badMask(String)
  /// A step that needs more memory than the machine has.
  case tooLarge(String)

  /// A human-readable message.
  public var description: String {
    switch self {
    case .unknownPreset(let n, let known):
      return "unknown preset '\(n)' (known: \(known.joined(separator: ", ")))"
    case .badConfig(let m): return "bad model configuration: \(m)"
    case .badFile(let p, let m): return "\(p): \(m)"
    case .badMask(let m): return "bad mask: \(m)"
    case .tooLarge(let m): return "too large for this machine: \(m)"
    }
  }
}
