import Glibc
import Tensor

/// What a model step needs in memory, estimated from the configuration before anything is
/// allocated, and checked against what the machine has: an absurd batch or model gets an error
/// that says so, not the kernel's out-of-memory killer (which would end the session). The figures
/// count the tensors a step keeps (activations saved for backward, the clips, the weights and what
/// training adds to them) and leave out transient buffers, so they stay below the measured peak:
/// the check refuses what cannot fit, never what would.
public enum MemoryEstimate {
  /// Floats a self-attention block keeps for its backward pass on n tokens of width c: the norms,
  /// q/k/v, output, projection and residuals (10·n·c), the MLP's hidden and activation (2·n·h) and
  /// the attention probabilities (heads·n²).
  static func selfBlock(_ n: Double, _ c: Double, hidden h: Double, heads: Double) -> Double {
    10 * n * c + 2 * n * h + heads * n * n
  }

  /// A cross-attention of nq queries over nk context tokens followed by a self block on the
  /// queries.
  static func crossSelfBlock(
    _ nq: Double, _ nk: Double, _ c: Double, hidden h: Double, heads: Double
  ) -> Double {
    5 * nq * c + 3 * nk * c + heads * nq * nk + selfBlock(nq, c, hidden: h, heads: heads)
  }

  /// Floats one clip keeps through the encoder on `perSlice` tokens per time slice (training), or
  /// the largest single block's working set (`saved: false`, a forward pass without a graph).
  static func encoder(_ cfg: SVFAPConfig, perSlice: Int, saved: Bool) -> Double {
    let c = Double(cfg.dim), h = c * cfg.mlpRatio, heads = Double(cfg.heads)
    var kept = 0.0, largest = 0.0
    for (s, stage) in cfg.stages(perSlice: perSlice).enumerated() {
      let (depth, n, g) = (Double(stage.depth), Double(stage.tokens), Double(stage.bottleneck))
      if s == 0 {
        let block = selfBlock(n, c, hidden: h, heads: heads)
        (kept, largest) = (depth * block, block)
        continue
      }
      let inner = crossSelfBlock(g, n, c, hidden: h, heads: heads)
      let reverse = crossSelfBlock(n, g, c, hidden: h, heads: heads)
      kept += 3 * n * c + (depth - 1) * inner + reverse
      largest = max(largest, inner, reverse)
    }
    return saved ? kept : largest
  }

  /// Bytes of activations and clips one step of `batch` clips keeps (Float32).
  public static func stepBytes(
    _ cfg: SVFAPConfig, task: ModelTask, training: Bool, batch: Int, maskRatio: Double = 0.9
  ) -> Double {
    let clip = Double(cfg.inChans * cfg.frames) * Double(cfg.imgSize) * Double(cfg.imgSize)
    var perClip = clip
    switch task {
    case .finetune:
      perClip += encoder(cfg, perSlice: cfg.tokensPerSlice, saved: training)
    case .pretrain:
      let masked = Int(maskRatio * Double(cfg.tokensPerSlice))
      let visible = max(cfg.tokensPerSlice - masked, 1)
      let n = Double(cfg.tokenCount), d = Double(cfg.decoderDim)
      let decoder = selfBlock(
        n, d, hidden: d * cfg.mlpRatio, heads: Double(cfg.decoderHeads))
      let target = Double(masked * cfg.timeSlices * cfg.valuesPerTubelet)
      perClip +=
        encoder(cfg, perSlice: visible, saved: training) + target
        + (training ? Double(cfg.decoderDepth) * decoder : decoder)
    }
    return 4 * perClip * Double(max(batch, 0))
  }

  /// Bytes of one copy of the weights in Float32 (`SVFAPConfig.linearWeightCount`).
  public static func weightBytes(_ cfg: SVFAPConfig, task: ModelTask) -> Double {
    4 * cfg.linearWeightCount(decoder: task == .pretrain)
  }

  /// Bytes of every copy of the weights a step keeps: the model (one per replica) with its
  /// gradients when `training`, and AdamW's two moments with an `optimizer`.
  static func weightCopies(
    _ cfg: SVFAPConfig, task: ModelTask, training: Bool, optimizer: Bool, replicas: Int
  ) -> Double {
    let copies = Double(max(replicas, 1)) * (training ? 2 : 1) + (optimizer ? 2 : 0)
    return weightBytes(cfg, task: task) * copies
  }

  /// Bytes the machine can still give this process: MemAvailable from /proc/meminfo plus the
  /// buffers the engine holds for reuse; nil when /proc/meminfo cannot be read.
  public static func availableBytes() -> Double? {
    guard let f = fopen("/proc/meminfo", "r") else { return nil }
    defer { fclose(f) }
    var line = [CChar](repeating: 0, count: 256)
    while fgets(&line, 256, f) != nil {
      let text = String(
        decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
      guard text.hasPrefix("MemAvailable:") else { continue }
      let kb = text.split(separator: " ").dropFirst().first.flatMap { Double($0) }
      return kb.map { $0 * 1024 + Double(BufferCache.shared.bytesCached) }
    }
    return nil
  }

  /// Throws a message naming the step (`model`: how to call the model), its estimate and the
  /// memory available when the estimate does not fit: `batch` clips per step (per replica when
  /// the batch is split over `replicas` model copies), with gradients when `training`, AdamW's
  /// moments with an `optimizer`. `available` defaults to the machine's; no check when unknown.
  public static func check(
    _ cfg: SVFAPConfig, model: String, task: ModelTask, training: Bool, batch: Int,
    maskRatio: Double = 0.9, optimizer: Bool = false, replicas: Int = 1,
    available: Double? = availableBytes()
  ) throws {
    guard let available else { return }
    let weights = weightCopies(
      cfg, task: task, training: training, optimizer: optimizer, replicas: replicas)
    let perClip = stepBytes(cfg, task: task, training: training, batch: 1, maskRatio: maskRatio)
    let need = perClip * Double(max(batch, 1)) + weights
    guard need > available else { return }
    let fits = Int(max(0, available - weights) / perClip)
    throw SVFAPError.tooLarge(
      """
      a \(task.rawValue) \(training ? "training" : "forward") step of \(model) on \(batch) \
      clips needs at least \(gigabytes(need)) GB and \(gigabytes(available)) GB are available; \
      \(fits == 0 ? "not even one clip fits" : "fewer than \(fits + 1) clips can fit"): lower \
      the batch (accumulate micro-batches for a larger one)
      """)
  }

  /// Throws when the encoder's weights alone (in `dtype`) exceed the memory available (a state
  /// file's configuration is edited text: its sizes pass `validate` up to 4000 M weights).
  public static func checkWeights(
    _ cfg: SVFAPConfig, dtype: DType, available: Double? = availableBytes()
  ) throws {
    let need = weightBytes(cfg, task: .finetune) / 4 * Double(dtype.size)
    guard let available, need > available else { return }
    throw SVFAPError.tooLarge(
      """
      a model of this configuration has about \(Int(need / Double(dtype.size) / 1e6)) M weights \
      (\(gigabytes(need)) GB in \(dtype)), more than the \(gigabytes(available)) GB available
      """)
  }

  /// `bytes` in GB with one decimal.
  public static func gigabytes(_ bytes: Double) -> String { String((bytes / 1e8).rounded() / 10) }
}
