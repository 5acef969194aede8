import Foundation
import SVFAP
import Tensor

/// Recomputes a golden fixture of the authors' PyTorch code (../shared/fixtures format: safetensors
/// + JSON sidecar with "kind" and "config") with our model and compares every output, loss and
/// gradient.
public enum FixtureCheck {
  /// One compared tensor.
  public struct Row: Sendable {
    /// The fixture's name for it.
    public let name: String
    /// max |ours − reference|.
    public let maxError: Double
    /// The scale the error is judged against (max |reference|, or the fc2.weight gradient's).
    public let scale: Double
    /// Allowed max error.
    public let tolerance: Double
    /// Compared absolutely (structurally zero gradients).
    public let absolute: Bool
    /// Whether it passed.
    public var ok: Bool { maxError <= tolerance }
  }

  /// The outcome for one file.
  public struct Report: Sendable {
    /// The fixture file.
    public let path: String
    /// Compared tensors.
    public var rows: [Row] = []
    /// Computed tensors the fixture does not hold (not compared).
    public var notInFixture: [String] = []
    /// Why the file is not checked, when it is a reference-only variant.
    public var unsupported: String? = nil
    /// True when every compared tensor passed and something was compared.
    public var ok: Bool { unsupported == nil && !rows.isEmpty && rows.allSatisfy(\.ok) }
  }

  /// Checks one fixture; `dump` writes every computed tensor under the fixture's names.
  public static func check(path: String, dump: String? = nil) throws -> Report {
    let jsonPath =
      path.hasSuffix(".safetensors") ? String(path.dropLast(12)) + ".json" : path + ".json"
    guard let jd = FileManager.default.contents(atPath: jsonPath),
      let side = (try? JSONSerialization.jsonObject(with: jd)) as? [String: Any]
    else {
      throw SVFAPError.badFile(path: jsonPath, message: "missing or unreadable JSON sidecar")
    }
    let kind = side["kind"] as? String ?? "?"
    var report = Report(path: path)
    if kind == "pretrain" {
      // A fixture of the released code (variant "orig", or no variant) runs that forward.
      let variant = side["variant"] as? String ?? "orig"
      guard ["paper", "orig", "ctxfix"].contains(variant) else {
        report.unsupported = "pretraining variant '\(variant)' is unknown (paper, orig, ctxfix)"
        return report
      }
    }
    let ref = try SafeTensorsFile(path: path)
    let dtype: DType =
      ["fp64", "float64"].contains(side["dtype"] as? String ?? "") ? .float64 : .float32
    var source = ref
    if let from = side["weights_and_inputs_from"] as? String {
      let file = String(from.split(separator: " ").first ?? "")
      source = try SafeTensorsFile(
        path: URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent(file)
          .path)
    }
    let computed: [String: Tensor]
    // Single steps: fp32 1e-4 and fp64 1e-9 of a tensor's largest value. Reordering a sum of K terms
    // (our kernels against PyTorch's) moves it by ~u·√K of its terms' magnitude; the longest sums
    // (weight gradients over B·N = 1600 tokens, products over 1536 channels) give u·√K ≈ 2e-6 in
    // fp32 and 4e-15 in fp64, and the chain of layers multiplies that by at most tens.
    // Replayed training runs (train_*) carry what Adam makes of rounding-level gradient elements: it
    // scales every coordinate to unit size, so an element whose gradient is near its terms' rounding
    // moves by up to lr per step in a direction the summation order sets, and the losses of later
    // steps carry that. Measured after six steps (fp64): parameters within 5e-11, losses within
    // 6.5e-10 of their scale. The smallest recipe error the replay must catch is ~2e-5 of a weight
    // (one parameter group's decay flag wrong for one step: lr·wd = 4e-4 · 0.05), so the limit sits
    // at 1e-7: 150x above the rounding, 200x below the smallest recipe error.
    let tol =
      dtype == .float64 ? (kind.hasPrefix("train_") ? 1e-7 : 1e-9) : 1e-4
    switch kind {
    case "unit": computed = try unit(side, source, dtype)
    case "finetune": computed = try finetune(side, source, dtype)
    case "pretrain": computed = try pretrain(side, source, dtype)
    case "misc": computed = try misc(side, source)
    case "train_finetune", "train_pretrain":
      let run = try TrainingFixture(
        side: side, file: source, dtype: dtype, pretraining: kind == "train_pretrain"
      ).run()
      computed = run.tensors
      report.rows += run.recipeRows(tolerance: tol)
    default: throw SVFAPError.badFile(path: jsonPath, message: "unknown fixture kind '\(kind)'")
    }
    for name in computed.keys.sorted() {
      guard ref.entries[name] != nil else {
        report.notInFixture.append(name)
        continue
      }
      guard let mine = computed[name], let entry = ref.entries[name] else { continue }
      let ours = mine.toDoubles()
      let theirs =
        entry.dtype.hasPrefix("F")
        ? try ref.tensor(name, dtype: .float64).toDoubles()
        : try ref.ints(name).values.map(Double.init)
      guard ours.count == theirs.count else {
        throw SVFAPError.badFile(
          path: path,
          message:
            "'\(name)' has \(theirs.count) values in the fixture but we computed \(ours.count)")
      }
      let err = zip(ours, theirs).map { abs($0 - $1) }.max() ?? 0
      var scale = theirs.map(abs).max() ?? 0
      var absolute = false
      // Softmax shift invariance makes these gradients exactly zero; the stored values are rounding
      // noise, so compare absolutely against the scale of the fc2.weight gradient (fixtures
      // README).
      let isUnitBottleneck = side["unit"] as? String == "spatial_attention"
      if name.hasPrefix("grad."), name.contains("spatial_downsamples.") || isUnitBottleneck,
        name.hasSuffix("mlp.fc2.bias")
      {
        let w = String(name.dropLast(4)) + "weight"
        scale = (try? ref.tensor(w, dtype: .float64).toDoubles().map(abs).max() ?? 0) ?? 0
        absolute = true
      }
      report.rows.append(
        Row(
          name: name, maxError: err, scale: scale,
          tolerance: tol * max(scale, .leastNormalMagnitude), absolute: absolute))
    }
    if let dump { try SafeTensorsFile.write(computed, to: dump) }
    return report
  }

  // MARK: kinds

  static func unit(_ side: [String: Any], _ src: SafeTensorsFile, _ dtype: DType) throws -> [String:
    Tensor]
  {
    let name = side["unit"] as? String ?? "?"
    let note = side["note"] as? String ?? ""
    func intInNote(_ key: String) throws -> Int {
      guard let r = note.range(of: key + "=\\d+", options: .regularExpression),
        let v = Int(note[r].dropFirst(key.count + 1))
      else {
        throw SVFAPError.badConfig("unit fixture '\(name)': the note does not give \(key)")
      }
      return v
    }
    func shape(_ n: String) throws -> [Int] {
      guard let e = src.entries[n] else {
        throw SVFAPError.badConfig("unit fixture '\(name)' lacks '\(n)'")
      }
      return e.shape
    }
    var i = Init(dtype: dtype, rng: SplitMix64(seed: 0))
    let module: Module
    let forward: (Tensor, Tensor?) throws -> Tensor
    func needContext(_ c: Tensor?) throws -> Tensor {
      guard let c else { throw SVFAPError.badConfig("unit fixture '\(name)' lacks 'context'") }
      return c
    }
    switch name {
    case "attention":
      let dim = try shape("qkv.weight")[1]
      let m = Attention(dim, heads: try intInNote("num_heads"), &i)
      module = m
      forward = { x, _ in try m(x) }
    case "general_attention":
      let w = try shape("q.weight"), kv = try shape("kv.weight")
      let m = CrossAttention(w[0], contextDim: kv[1], heads: try intInNote("num_heads"), &i)
      module = m
      forward = { x, c in try m(x, context: try needContext(c)) }
    case "block":
      let dim = try shape("norm1.weight")[0], hidden = try shape("mlp.fc1.weight")[0]
      let m = Block(
        dim, heads: try intInNote("num_heads"), mlpRatio: Double(hidden) / Double(dim), eps: 1e-6,
        dropPath: 0, &i)
      var rows = RowGenerators(seeds: [])  // no drop path
      module = m
      forward = { x, _ in try m(x, rows: &rows) }
    case "csblock":
      let dim = try shape("norm1.weight")[0], hidden = try shape("mlp.fc1.weight")[0],
        ctx = try shape("cross_norm2.weight")[0]
      let m = CrossSelfBlock(
        dim, contextDim: ctx, heads: try intInNote("num_heads"),
        mlpRatio: Double(hidden) / Double(dim), eps: 1e-6, dropPath: 0, &i)
      var rows = RowGenerators(seeds: [])  // no drop path
      module = m
      forward = { x, c in try m(x, context: try needContext(c), rows: &rows) }
    case "patch_embed":
      let w = try shape("proj.weight")
      let m = PatchEmbed(inChans: w[1], dim: w[0], tubelet: w[2], patch: w[3], &i)
      module = m
      forward = { x, _ in try m(x) }
    case "spatial_attention":
      let dim = try shape("norm.weight")[0], hidden = try shape("mlp.fc1.weight")[0],
        g = try shape("mlp.fc2.weight")[0]
      let m = SpatialAttention(dim, tokens: g, hidden: hidden, eps: 1e-6, &i)
      let t = try intInNote("temporal_seq_len")
      module = m
      forward = { x, _ in try m(x, slices: t) }
    case "temporal_conv1d":
      let w = try shape("weight")
      guard w[0] == w[1] else {
        throw SVFAPError.badConfig("temporal conv fixture with \(w[1]) -> \(w[0]) channels")
      }
      let m = TemporalConv(w[0], kernel: w[2], &i)
      module = m
      forward = { x, _ in try m.conv1d(x) }
    default:
      throw SVFAPError.badConfig("unknown unit '\(name)'")
    }
    try loadWeights(module, src, prefix: "")
    let input = try src.tensor("input", dtype: dtype)
    input.requiresGrad = true
    let context = try src.entries["context"].map { _ in try src.tensor("context", dtype: dtype) }
    context?.requiresGrad = true
    let out = try forward(input, context)
    try out.backward(try src.tensor("grad_output", dtype: dtype))
    var result = grads(module, prefix: "")
    result["output"] = out
    result["grad.input"] = input.grad
    if let context { result["grad.context"] = context.grad }
    return result
  }

  static func finetune(_ side: [String: Any], _ src: SafeTensorsFile, _ dtype: DType) throws
    -> [String: Tensor]
  {
    let c = try finetuneConfig(side)
    let model = try FinetuneModel(c, dtype: dtype)
    try loadWeights(model, src, prefix: "")
    let input = try src.tensor("input", dtype: dtype)
    input.requiresGrad = true
    let out = try model(input)
    var result: [String: Tensor] = [:]
    let loss: Tensor
    if src.entries["labels"] != nil {
      loss = try out.crossEntropy(labels: src.ints("labels").values)
      result["logits"] = out
    } else if src.entries["targets"] != nil {
      loss = try out.mse(src.tensor("targets", dtype: dtype))
      result["output"] = out
    } else {
      throw SVFAPError.badConfig("finetune fixture with neither labels nor targets")
    }
    try loss.backward()
    result.merge(grads(model, prefix: "")) { a, _ in a }
    result["loss"] = loss
    result["grad.input"] = input.grad
    result["const.pos_embed"] = sinusoidTable(count: c.tokenCount, dim: c.dim, dtype: dtype)
    return result
  }

  static func pretrain(_ side: [String: Any], _ src: SafeTensorsFile, _ dtype: DType) throws
    -> [String: Tensor]
  {
    var c = try pretrainConfig(side)
    switch side["variant"] as? String ?? "orig" {
    case "paper": c.variant = nil
    case "ctxfix": c.variant = .releasedContextFixed
    default: c.variant = .released
    }
    let model = try PretrainModel(c, dtype: dtype)
    try loadWeights(model, src, prefix: "")
    let mask = try loadMask(src, "mask", slices: c.timeSlices)
    let input = try src.tensor("input", dtype: dtype)
    input.requiresGrad = true
    let (loss, output, target) = try model.loss(input, mask: mask)
    try loss.backward()
    var result = grads(model, prefix: "")
    result["loss"] = loss
    result["output"] = output
    result["target"] = target
    result["grad.input"] = input.grad
    result["const.encoder.pos_embed"] = sinusoidTable(count: c.tokenCount, dim: c.dim, dtype: dtype)
    result["const.pos_embed"] = sinusoidTable(count: c.tokenCount, dim: c.decoderDim, dtype: dtype)
    return result
  }

  /// The sinusoid table, recomputed; and the tube masks' structure (count per frame, tiled over
  /// time), reported as 0 (right) or 1 (wrong), since numpy's random stream is not ours to
  /// reproduce.
  static func misc(_ side: [String: Any], _ src: SafeTensorsFile) throws -> [String: Tensor] {
    var out: [String: Tensor] = [:]
    for name in src.names {
      guard let e = src.entries[name] else { continue }
      if name.hasPrefix("sinusoid_table"), e.shape.count == 3 {
        out[name] = sinusoidTable(count: e.shape[1], dim: e.shape[2])
      } else if name.hasPrefix("tube_mask_"),
        let dims = name.split(separator: "_").dropFirst(2).first
      {
        let tdims = dims.split(separator: "x").compactMap { Int($0) }
        guard tdims.count == 3 else { continue }
        let per = tdims[1] * tdims[2]
        let ratio =
          Double(name.components(separatedBy: "_r").last?.split(separator: "_").first ?? "") ?? -1
        let v =
          e.dtype.hasPrefix("F")
          ? try src.tensor(name, dtype: .float64).toDoubles().map { Int($0) }
          : try src.ints(name).values
        let first = Array(v.prefix(per))
        let tiled = (0..<tdims[0]).allSatisfy { Array(v[($0 * per)..<(($0 + 1) * per)]) == first }
        let countOK =
          first.filter { $0 != 0 }.count == (try? TokenMask.maskedCount(ratio, per)) ?? -1
        // Ours: the same tensor when the structure holds, so the comparison reports 0 error.
        let ok = tiled && countOK
        out[name] = try Tensor(
          v.map { ok ? Double($0) : Double($0) + 1 }, shape: e.shape, dtype: .float64)
      }
    }
    return out
  }

  // MARK: helpers

  /// The fine-tuning model's config of a fixture (TPSBT with mean pooling).
  static func finetuneConfig(_ side: [String: Any]) throws -> SVFAPConfig {
    guard let cfg = side["config"] as? [String: Any] else {
      throw SVFAPError.badConfig("finetune fixture without config")
    }
    var c = try encoderConfig(cfg)
    c.frames = try int(cfg, "all_frames")
    c.numClasses = try int(cfg, "num_classes")
    if let name = cfg["head_activation_func"] as? String {
      guard let activation = HeadActivation(rawValue: name) else {
        throw SVFAPError.badConfig("unknown head activation '\(name)'")
      }
      c.headActivation = activation
    }
    guard cfg["use_mean_pooling"] as? Bool == true, cfg["keep_temporal_dim"] as? Bool != true else {
      throw SVFAPError.badConfig(
        "only use_mean_pooling = true, keep_temporal_dim = false is supported")
    }
    return c
  }

  /// The pretraining model's config of a fixture (encoder, decoder, normalized targets).
  static func pretrainConfig(_ side: [String: Any]) throws -> SVFAPConfig {
    guard let cfg = side["config"] as? [String: Any] else {
      throw SVFAPError.badConfig("pretrain fixture without config")
    }
    var c = try encoderConfig(cfg)
    c.frames = try int(cfg, "num_frames")
    c.decoderDim = try int(cfg, "decoder_embed_dim")
    c.decoderDepth = try int(cfg, "decoder_depth")
    c.decoderHeads = try int(cfg, "decoder_num_heads")
    guard try int(cfg, "decoder_num_classes") == c.valuesPerTubelet else {
      throw SVFAPError.badConfig(
        "decoder_num_classes must be 3·tubelet·P·P = \(c.valuesPerTubelet)")
    }
    guard cfg["normlize_target"] as? Bool == true else {
      throw SVFAPError.badConfig("only normalized targets are supported")
    }
    return c
  }

  /// A stored bool mask (B, N), true = masked, as a token mask.
  static func loadMask(_ src: SafeTensorsFile, _ name: String, slices: Int) throws -> TokenMask {
    let (flags, shape) = try src.ints(name)
    guard shape.count == 2 else {
      throw SVFAPError.badConfig("'\(name)' has shape \(shape), not (B, N)")
    }
    let rows = (0..<shape[0]).map { b in (0..<shape[1]).map { flags[b * shape[1] + $0] != 0 } }
    return try TokenMask(masked: rows, slices: slices)
  }

  /// The encoder fields of an authors' config dictionary; anything we do not implement is an error.
  static func encoderConfig(_ cfg: [String: Any]) throws -> SVFAPConfig {
    var c = SVFAPConfig()
    c.imgSize = try int(cfg, "img_size")
    c.patchSize = try int(cfg, "patch_size")
    c.inChans = try int(cfg, "in_chans")
    c.tubelet = try int(cfg, "tubelet_size")
    c.dim = try int(cfg, "embed_dim")
    c.heads = try int(cfg, "num_heads")
    c.mlpRatio = cfg["mlp_ratio"] as? Double ?? 4
    guard let depths = cfg["stage_depths"] as? [Int] else {
      throw SVFAPError.badConfig("config lacks stage_depths")
    }
    c.stageDepths = depths
    c.temporalKernel = try int(cfg, "temporal_kernel_size")
    guard let g = cfg["num_bottleneck_tokens"] as? [Int], let g0 = g.first,
      g.allSatisfy({ $0 == g0 })
    else {
      throw SVFAPError.badConfig("num_bottleneck_tokens must be one count for every stage")
    }
    c.bottleneckTokens = g0
    c.bottleneckHidden = try int(cfg, "spatial_attention_bottleneck_dim")
    c.eps = cfg["layer_norm_eps"] as? Double ?? 1e-6
    guard cfg["qkv_bias"] as? Bool == true, cfg["qk_scale"] == nil || cfg["qk_scale"] is NSNull,
      (cfg["init_values"] as? Double ?? 0) == 0, cfg["use_learnable_pos_emb"] as? Bool != true
    else {
      throw SVFAPError.badConfig(
        """
        only qkv_bias = true, qk_scale = null, init_values = 0 and fixed position tables are \
        supported
        """
      )
    }
    for key in ["drop_rate", "attn_drop_rate", "drop_path_rate"]
    where (cfg[key] as? Double ?? 0) != 0 {
      throw SVFAPError.badConfig("\(key) must be 0 for a deterministic check")
    }
    return c
  }

  static func int(_ cfg: [String: Any], _ key: String) throws -> Int {
    guard let v = cfg[key] as? Int else {
      throw SVFAPError.badConfig("config lacks integer '\(key)'")
    }
    return v
  }

  /// Loads every parameter of `module` from the fixture; a missing or misshapen one is an error.
  static func loadWeights(_ module: Module, _ src: SafeTensorsFile, prefix: String) throws {
    for (name, p) in module.namedParameters() {
      let stored = prefix + name
      guard src.entries[stored] != nil else {
        throw SVFAPError.badFile(path: src.path, message: "no weight '\(stored)' for the model")
      }
      let t = try src.tensor(stored, dtype: p.dtype)
      guard t.shape == p.shape else {
        throw SVFAPError.badFile(
          path: src.path, message: "'\(stored)' has shape \(t.shape) but the model needs \(p.shape)"
        )
      }
      try p.assign(t)
      p.requiresGrad = true
      p.grad = nil
    }
  }

  /// grad.<name> for every parameter (zeros where no gradient arrived).
  static func grads(_ module: Module, prefix: String) -> [String: Tensor] {
    var out: [String: Tensor] = [:]
    for (name, p) in module.namedParameters() {
      out["grad." + prefix + name] = p.grad ?? Tensor.zeros(p.shape, dtype: p.dtype)
    }
    return out
  }
}
