import Foundation

/// Everything that fixes how a training run updates its model, as one value: the schedule (lr,
/// warmup, total, batch it was scaled for), the optimizer's settings, clipping, accumulation, the
/// data stream's seed and each trainer's own settings (mask ratio; task, per-parameter lr scales,
/// mixup and cutmix). Checkpoints store it, processes training together compare it, replicas copy
/// it and the workbench prints it: one list of fields, here.
public struct RunSettings: Codable, Sendable, Equatable {
  /// The learning-rate schedule.
  public var schedule: CosineSchedule
  /// AdamW's β, ε and weight decay.
  public var optimizer: AdamW.Settings
  /// Gradient-norm clip (nil = none).
  public var clipGrad: Double?
  /// Micro-batches per update.
  public var accumulate: Int
  /// Seed of the stream's shuffles and clip starts.
  public var dataSeed: UInt64
  /// Tube mask ratio (pretraining).
  public var maskRatio: Double?
  /// The loss (fine-tuning).
  public var task: Finetuner.Task?
  /// Per-parameter lr scales: layer decay and a frozen encoder (fine-tuning).
  public var lrScale: [Double]?
  /// Mixup and CutMix α (fine-tuning).
  public var mixup: Double?, cutmix: Double?

  /// The shared settings; each trainer adds its own.
  public init(
    schedule: CosineSchedule, optimizer: AdamW.Settings, clipGrad: Double?, accumulate: Int,
    dataSeed: UInt64
  ) {
    (self.schedule, self.optimizer, self.clipGrad) = (schedule, optimizer, clipGrad)
    (self.accumulate, self.dataSeed) = (accumulate, dataSeed)
  }

  private enum CodingKeys: String, CodingKey {
    case schedule, optimizer, clipGrad, accumulate, dataSeed, maskRatio, task, lrScale, mixup,
      cutmix
  }

  /// Reads the settings; files written before accumulation and streaming had no `accumulate` (1)
  /// and no `dataSeed` (that of seed 0).
  public init(from decoder: Swift.Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    schedule = try c.decode(CosineSchedule.self, forKey: .schedule)
    optimizer = try c.decode(AdamW.Settings.self, forKey: .optimizer)
    clipGrad = try c.decodeIfPresent(Double.self, forKey: .clipGrad)
    accumulate = try c.decodeIfPresent(Int.self, forKey: .accumulate) ?? 1
    dataSeed = try c.decodeIfPresent(UInt64.self, forKey: .dataSeed) ?? TrainingRunState.dataSeed(0)
    maskRatio = try c.decodeIfPresent(Double.self, forKey: .maskRatio)
    task = try c.decodeIfPresent(Finetuner.Task.self, forKey: .task)
    lrScale = try c.decodeIfPresent([Double].self, forKey: .lrScale)
    mixup = try c.decodeIfPresent(Double.self, forKey: .mixup)
    cutmix = try c.decodeIfPresent(Double.self, forKey: .cutmix)
  }

  /// The fields in which `other` differs from these settings, as `name value ≠ value` (a value's
  /// JSON, the lr scales summarized), in a fixed order.
  public func differences(from other: RunSettings) -> [String] {
    let mine = Self.flattened(self), theirs = Self.flattened(other)
    return Set(mine.keys).union(theirs.keys).sorted().compactMap { key in
      let a = mine[key] ?? "none", b = theirs[key] ?? "none"
      return a == b ? nil : "\(key) \(a) ≠ \(b)"
    }
  }

  /// Every leaf of the settings' JSON by its dotted path.
  private static func flattened(_ s: RunSettings) -> [String: String] {
    var copy = s
    if let scales = copy.lrScale {  // hundreds of numbers: compared as one summary
      copy.lrScale = nil
      var out = flattened(copy)
      out["lrScale"] = "\(scales.count) scales, sum \(scales.reduce(0, +))"
      return out
    }
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    guard let data = try? encoder.encode(copy),
      let object = try? JSONSerialization.jsonObject(with: data)
    else { return [:] }
    var out: [String: String] = [:]
    func walk(_ value: Any, _ path: String) {
      if let d = value as? [String: Any] {
        for (k, v) in d { walk(v, path.isEmpty ? k : path + "." + k) }
      } else {
        out[path] = "\(value)"
      }
    }
    walk(object, "")
    return out
  }

  /// One line saying the run's schedule and the rule that gave its peak rate.
  public var scheduleLine: String {
    let s = schedule
    let clips = s.batch
    // The authors scale by what a step's batch counts: clips when pretraining, videos (each giving
    // `repeats` augmented clips) when fine-tuning.
    let unit = task == nil ? "clip" : "video"
    var line =
      "peak lr \(Self.short(s.peakLR)) (lr \(Self.short(s.baseLR)) per 256 \(unit)s × \(clips) "
      + "\(unit)\(clips == 1 ? "" : "s") per update / 256, the authors' linear scaling), "
      + "\(s.warmupSteps) warmup step\(s.warmupSteps == 1 ? "" : "s"), "
      + "cosine to min lr \(Self.short(s.endLR)) at step \(s.totalSteps), "
      + "batch \(clips / max(accumulate, 1)) × accumulate \(accumulate)"
    if let c = clipGrad { line += ", clip_grad \(Self.short(c))" }
    if let r = maskRatio { line += ", mask ratio \(Self.short(r))" }
    if let m = mixup, let c = cutmix, m > 0 || c > 0 {
      line += ", mixup \(Self.short(m)) / cutmix \(Self.short(c))"
    }
    return line
  }

  /// A number in at most four significant digits.
  static func short(_ x: Double) -> String { String(format: "%.4g", x) }
}
