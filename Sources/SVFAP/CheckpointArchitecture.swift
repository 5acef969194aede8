import Foundation
import Tensor

/// What a checkpoint's keys and shapes say about the model that wrote it: the task, widths, depths,
/// bottleneck tokens, decoder and the preset it matches. Heads and the forward variant do not show
/// in the weights: they come from the matching preset (or 64-wide heads), and the inference says so.
public struct CheckpointArchitecture: Sendable {
  /// The configuration inferred.
  public var config: SVFAPConfig
  /// Pretraining (an autoencoder: decoder and mask token present) or fine-tuning.
  public var task: ModelTask
  /// The preset whose architecture it matches, if any.
  public var preset: String?
  /// When no preset matches: the nearest preset and how it differs (`dim 96 ≠ 128`: the preset's
  /// value, then the file's).
  public var closest: (preset: String, differences: [String])? = nil
  /// What was inferred and what was assumed, in words.
  public var description: String

  /// Infers the architecture of a state_dict (the authors' or ours).
  public static func infer(_ state: [String: Tensor]) throws -> CheckpointArchitecture {
    let pretrain = state.keys.contains { $0.hasPrefix("decoder.") } || state["mask_token"] != nil
    let prefix = pretrain ? "encoder." : ""
    func key(_ name: String) -> Tensor? { state[prefix + name] ?? state[name] }
    guard let proj = key("patch_embed.proj.weight"), proj.rank == 5 else {
      throw SVFAPError.badConfig(
        "no patch_embed.proj.weight of shape (C, 3, kt, P, P): not an SVFAP or VideoMAE checkpoint")
    }
    var c = SVFAPConfig()
    (c.dim, c.inChans, c.tubelet, c.patchSize) = (
      proj.shape[0], proj.shape[1], proj.shape[2], proj.shape[3]
    )
    // Blocks: stage 1's are plain, later stages' have a cross-attention.
    var plain = 0, cross = 0, index = 0
    while key("blocks.\(index).norm1.weight") != nil {
      if key("blocks.\(index).cross_attn.q.weight") != nil { cross += 1 } else { plain += 1 }
      index += 1
    }
    var later = 0
    while key("temporal_downsamples.\(later).weight") != nil { later += 1 }
    guard plain > 0 else { throw SVFAPError.badConfig("the checkpoint has no encoder blocks") }
    if let k = key("temporal_downsamples.0.weight"), k.rank == 3 { c.temporalKernel = k.shape[2] }
    if let fc2 = key("spatial_downsamples.0.mlp.fc2.weight"), fc2.rank == 2 {
      (c.bottleneckTokens, c.bottleneckHidden) = (fc2.shape[0], fc2.shape[1])
    }
    if pretrain {
      if let e2d = state["encoder_to_decoder.weight"], e2d.rank == 2 { c.decoderDim = e2d.shape[0] }
      var d = 0
      while state["decoder.blocks.\(d).norm1.weight"] != nil { d += 1 }
      c.decoderDepth = d
    } else if let head = state["head.weight"], head.rank == 2 {
      c.numClasses = head.shape[0]
    }
    // Later stages' depths are not in the keys (blocks are numbered through): a preset with the
    // same total decides, else each later stage has half the blocks of the one before.
    let presets = SVFAPConfig.presets.sorted { $0.key < $1.key }
    func matches(_ p: SVFAPConfig) -> Bool {
      p.dim == c.dim && p.patchSize == c.patchSize && p.tubelet == c.tubelet
        && p.stageDepths.first == plain && p.stageDepths.count == later + 1
        && p.stageDepths.dropFirst().reduce(0, +) == cross
        && (later == 0 || p.bottleneckTokens == c.bottleneckTokens)
        && (!pretrain || (p.decoderDim == c.decoderDim && p.decoderDepth == c.decoderDepth))
    }
    var notes: [String] = []
    let match = presets.first { matches($0.value) }
    if let (name, p) = match {
      c.stageDepths = p.stageDepths
      (c.heads, c.decoderHeads, c.imgSize, c.frames, c.variant) = (
        p.heads, p.decoderHeads, p.imgSize, p.frames, pretrain ? p.variant : nil
      )
      notes.append("heads, frames, size and forward as the preset \(name)")
    } else {
      var depths = [plain], left = cross
      for s in 0..<later {
        let d = s == later - 1 ? left : max(1, Int((Double(left) * 2 / 3).rounded()))
        depths.append(d)
        left -= d
      }
      c.stageDepths = depths
      c.heads = max(1, c.dim / 64)
      c.decoderHeads = max(1, c.decoderDim / 64)
      notes.append(
        """
        no preset matches: later stages split 2:1, \(c.heads) heads of 64, \(c.frames) frames of \
        \(c.imgSize) px assumed (not in the weights)
        """)
    }
    var closest: (String, [String])? = nil
    if match == nil {
      closest = presets.map { ($0.key, $0.value.inferableDifferences(from: c, pretrain: pretrain)) }
        .min { $0.1.count < $1.1.count || ($0.1.count == $1.1.count && $0.0 < $1.0) }
    }
    let text =
      "\(pretrain ? "pretraining" : "fine-tuning") model, C \(c.dim), stages "
      + c.stageDepths.map(String.init).joined(separator: "/")
      + (later > 0 ? ", \(c.bottleneckTokens) bottleneck tokens" : "")
      + (pretrain ? ", decoder \(c.decoderDim) × \(c.decoderDepth)" : ", \(c.numClasses) outputs")
      + (c.variant.map { ", the \($0.rawValue) forward" } ?? "") + "; "
      + notes.joined(separator: "; ")
    var found = CheckpointArchitecture(
      config: c, task: pretrain ? .pretrain : .finetune, preset: match?.key, description: text)
    found.closest = closest
    return found
  }
}

extension SVFAPConfig {
  /// How a checkpoint's inferred architecture `c` differs from this preset in what the weights
  /// show (widths, patch, depths, bottleneck, decoder; not heads, frames or size).
  func inferableDifferences(from c: SVFAPConfig, pretrain: Bool) -> [String] {
    var fields: [(String, String, String)] = [
      ("dim", "\(dim)", "\(c.dim)"), ("patch_size", "\(patchSize)", "\(c.patchSize)"),
      ("tubelet", "\(tubelet)", "\(c.tubelet)"),
      ("stage_depths", "\(stageDepths)", "\(c.stageDepths)"),
      ("temporal_kernel", "\(temporalKernel)", "\(c.temporalKernel)"),
      ("bottleneck_tokens", "\(bottleneckTokens)", "\(c.bottleneckTokens)"),
    ]
    if pretrain {
      fields += [
        ("decoder_dim", "\(decoderDim)", "\(c.decoderDim)"),
        ("decoder_depth", "\(decoderDepth)", "\(c.decoderDepth)"),
      ]
    }
    return fields.filter { $0.1 != $0.2 }.map { "\($0.0) \($0.1) ≠ \($0.2)" }
  }
}
