import Foundation
import SafeFiles
import Tensor

/// What one training step recorded (also written as a JSON line to a run's log file, which the plot
/// layer reads back).
public struct StepLog: Codable, Sendable, Equatable {
  /// 1-based step.
  public let step: Int
  /// Loss of the step.
  public let loss: Double
  /// Learning rate used.
  public let lr: Double
  /// Gradient norm before clipping.
  public let gradNorm: Double
  /// Clips per second of the step.
  public let clipsPerSecond: Double

  /// A step's record.
  public init(step: Int, loss: Double, lr: Double, gradNorm: Double, clipsPerSecond: Double) {
    (self.step, self.loss, self.lr, self.gradNorm, self.clipsPerSecond) = (
      step, loss, lr, gradNorm, clipsPerSecond
    )
  }
}

/// Why a call to a trainer's `train` ended.
public enum TrainingStop: Equatable, Sendable {
  /// All requested steps ran.
  case finished
  /// Ctrl-C (or `shouldStop`) at a step boundary.
  case interrupted
  /// A non-finite loss at this step; the parameters are those before the step.
  case nonFinite(step: Int)
}

/// What a pretraining and a fine-tuning run share: the optimizer and its schedule, the run's
/// generator, the step log, clipping and accumulation, the position in streamed data, and how all of
/// it goes into and comes back from a checkpoint's `TrainingState`.
public class TrainingRunState {
  /// The optimizer.
  public let optimizer: AdamW
  /// Learning-rate schedule.
  public var schedule: CosineSchedule
  /// Draws masks, batch order and mixing.
  public var rng: SplitMix64
  /// Every step so far.
  public internal(set) var log: [StepLog] = []
  /// A JSON-lines file each step is appended to.
  public var logPath: String?
  /// Gradient clipping (nil = none).
  public var clipGrad: Double?
  /// Micro-batches whose gradients are summed before one update (an effective batch larger than
  /// memory allows).
  public var accumulate = 1
  /// Samples consumed from streamed data so far (epoch and position of a streaming run;
  /// checkpointed).
  public var dataPosition = 0
  /// Seed of a streaming run's shuffles and clip starts (checkpointed).
  public var dataSeed: UInt64
  /// Optimizer steps taken so far.
  public var step: Int { optimizer.step }
  /// The processes training this run together (one alone by default; MPI ranks under `mpirun`).
  public var collective: Collective = SingleProcess()
  /// Seconds spent summing gradients over the processes, and the bytes each process sent into
  /// those sums, since the run was made (zero alone).
  public internal(set) var communication = (seconds: 0.0, bytes: 0)
  /// The gradient sums' buffer, kept between steps.
  let reductionBuffer = ReductionBuffer()
  /// This process's part of every global batch.
  public var shard: Shard { Shard(index: collective.rank, count: collective.size) }

  /// The generator of one sample of a step: it depends on the run's data seed, the step, the
  /// micro-batch, the sample's position in the global batch and what it draws (`purpose`), never
  /// on how the batch is split over processes.
  public func sampleGenerator(_ slot: MicroBatch, sample: Int, purpose: UInt64) -> SplitMix64 {
    var mix = SplitMix64(seed: dataSeed ^ purpose)
    mix.state &+= UInt64(truncatingIfNeeded: slot.step) &* 0xD1B5_4A32_D192_ED03
    mix.state &+= UInt64(truncatingIfNeeded: slot.micro) &* 0x8CB9_2BA7_2F3D_8DD7
    mix.state &+= UInt64(truncatingIfNeeded: sample) &* 0x9E37_79B9_7F4A_7C15
    return SplitMix64(seed: mix.next())
  }

  init(optimizer: AdamW, schedule: CosineSchedule, seed: UInt64) {
    (self.optimizer, self.schedule) = (optimizer, schedule)
    rng = SplitMix64(seed: seed)
    dataSeed = Self.dataSeed(seed)
  }

  /// The data seed of a run made with `seed`.
  static func dataSeed(_ seed: UInt64) -> UInt64 { seed &+ 0x5EED }

  /// Whether the run has said that a call goes past its schedule's end (said once per run).
  public var warnedPastSchedule = false

  /// The run's settings as one value (each trainer adds its own fields).
  public var settings: RunSettings {
    get {
      RunSettings(
        schedule: schedule, optimizer: optimizer.settings, clipGrad: clipGrad,
        accumulate: accumulate, dataSeed: dataSeed)
    }
    set {
      (schedule, optimizer.settings, clipGrad) = (
        newValue.schedule, newValue.optimizer, newValue.clipGrad
      )
      (accumulate, dataSeed) = (max(1, newValue.accumulate), newValue.dataSeed)
    }
  }

  /// Takes `other`'s settings, generator and stream position (not its log file: one writer per
  /// run).
  func copySettings(from other: TrainingRunState) {
    settings = other.settings
    (rng, dataPosition) = (other.rng, other.dataPosition)
  }

  /// The checkpoint state of the run (the model's config and generators given by the trainer).
  func state(config: SVFAPConfig, modelRNG: [UInt64]) -> TrainingState {
    TrainingState(
      step: step, rngState: rng.state, config: config, log: log, settings: settings,
      dataPosition: dataPosition, modelRNG: modelRNG, logPath: logPath)
  }

  /// Restores the run from a checkpoint's state and optimizer moments.
  func restore(_ meta: TrainingState, moments: [String: Tensor]) throws {
    settings = meta.settings
    try optimizer.restore(moments, step: meta.step)
    rng.state = meta.rngState
    log = meta.log
    dataPosition = meta.dataPosition ?? 0
    logPath = meta.logPath
  }
}

/// What the workbench needs of any training run (pretraining or fine-tuning): its shared state
/// and a resumable checkpoint.
public protocol TrainingRun: TrainingRunState {
  /// Writes a resumable checkpoint atomically.
  func save(to path: String) throws
  /// Another run with the same model architecture, precision and settings (its weights and
  /// optimizer state are copied when training starts together: a thread's replica).
  func replica() throws -> Self
}

/// Appends one JSON object (keys sorted) and a newline to a regular file (created when missing) in
/// one `O_APPEND` write: two processes logging to one file never overwrite or split each other's
/// lines; a FIFO, device or folder is refused, never waited on.
func appendJSONLine<T: Encodable>(_ entry: T, to path: String) throws {
  let encoder = JSONEncoder()
  encoder.outputFormatting = .sortedKeys
  var data = try encoder.encode(entry)
  data.append(0x0A)
  do { try SafeFile.append(data, to: path) } catch {
    throw SVFAPError.badFile(path: path, message: "cannot append to the log: \(error.reason)")
  }
}

/// Keeps the lines of a run's JSON-lines log up to `step` (a resumed run continues from its
/// checkpoint's step, and the log of a killed process may be ahead of it): the file is rewritten
/// atomically; lines that are not step records are kept. Returns how many lines were dropped.
@discardableResult
public func trimTrainingLog(_ path: String, toStep step: Int) throws -> Int {
  guard FileManager.default.fileExists(atPath: path) else { return 0 }
  let text: String
  do { text = try SafeFile.readText(path, limit: 1 << 30) } catch {
    throw SVFAPError.badFile(path: path, message: "cannot read the log: \(error.reason)")
  }
  var kept: [Substring] = [], dropped = 0
  for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
    if let entry = try? JSONDecoder().decode(StepLog.self, from: Data(line.utf8)),
      entry.step > step
    {
      dropped += 1
    } else {
      kept.append(line)
    }
  }
  guard dropped > 0 else { return 0 }
  let out = kept.map { $0 + "\n" }.joined()
  do { try SafeFile.writeAtomically(Data(out.utf8), to: path) } catch {
    throw SVFAPError.badFile(path: path, message: "cannot rewrite the log: \(error.reason)")
  }
  return dropped
}

/// The training-checkpoint half that is not tensors: what `Pretrainer` and `Finetuner` store as
/// JSON metadata next to weights (`model.*`) and optimizer moments (`opt.*`): the position of the
/// run and its `RunSettings`, whose fields sit beside the others in the JSON object.
struct TrainingState: Codable {
  let step: Int
  let rngState: UInt64
  let config: SVFAPConfig
  let log: [StepLog]
  /// The run's settings.
  var settings: RunSettings
  /// Streamed data: samples consumed.
  var dataPosition: Int? = nil
  /// The models' own generators (drop-path masks): the encoder's, then the decoder's when
  /// pretraining.
  var modelRNG: [UInt64]? = nil
  /// The run's JSON-lines log, continued by a resumed run.
  var logPath: String? = nil

  private enum CodingKeys: String, CodingKey {
    case step, rngState, config, log, dataPosition, modelRNG, logPath
  }

  init(
    step: Int, rngState: UInt64, config: SVFAPConfig, log: [StepLog], settings: RunSettings,
    dataPosition: Int?, modelRNG: [UInt64]?, logPath: String?
  ) {
    (self.step, self.rngState, self.config, self.log, self.settings) = (
      step, rngState, config, log, settings
    )
    (self.dataPosition, self.modelRNG, self.logPath) = (dataPosition, modelRNG, logPath)
  }

  init(from decoder: Swift.Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    step = try c.decode(Int.self, forKey: .step)
    rngState = try c.decode(UInt64.self, forKey: .rngState)
    config = try c.decode(SVFAPConfig.self, forKey: .config)
    log = try c.decode([StepLog].self, forKey: .log)
    dataPosition = try c.decodeIfPresent(Int.self, forKey: .dataPosition)
    modelRNG = try c.decodeIfPresent([UInt64].self, forKey: .modelRNG)
    logPath = try c.decodeIfPresent(String.self, forKey: .logPath)
    settings = try RunSettings(from: decoder)
  }

  func encode(to encoder: Swift.Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(step, forKey: .step)
    try c.encode(rngState, forKey: .rngState)
    try c.encode(config, forKey: .config)
    try c.encode(log, forKey: .log)
    try c.encodeIfPresent(dataPosition, forKey: .dataPosition)
    try c.encodeIfPresent(modelRNG, forKey: .modelRNG)
    try c.encodeIfPresent(logPath, forKey: .logPath)
    try settings.encode(to: encoder)
  }
}

extension TrainingState {
  /// Every field of a state file checked like a preset's config, the range named in the error: a
  /// file is edited text, and a bad value would train on in silence (a negative step gives a
  /// negative lr, a batch of 0 a peak lr of 0, a batch of 10^9 a peak lr of 1171).
  func validate(path: String) throws {
    var problems: [String] = []
    func need(_ ok: Bool, _ what: String) { if !ok { problems.append(what) } }
    func finite(_ x: Double, in r: ClosedRange<Double>) -> Bool { x.isFinite && r.contains(x) }
    need((0...1_000_000_000).contains(step), "step \(step) must be in 0...10^9")
    let sch = settings.schedule
    need((1...65_536).contains(sch.batch), "schedule batch \(sch.batch) must be in 1...65536")
    need(
      (1...1_000_000_000).contains(sch.totalSteps),
      "schedule total \(sch.totalSteps) must be in 1...10^9")
    need(
      (0...max(sch.totalSteps, 0)).contains(sch.warmupSteps),
      "schedule warmup \(sch.warmupSteps) must be in 0...total (\(sch.totalSteps))")
    need(finite(sch.baseLR, in: 0...10), "schedule base lr \(sch.baseLR) must be in 0...10")
    need(
      finite(sch.minLR, in: 0...max(sch.baseLR, 0)),
      "schedule min lr \(sch.minLR) must be in 0...base lr")
    if let r = settings.maskRatio {
      need(finite(r, in: 0.01...0.99), "mask ratio \(r) must be in 0.01...0.99")
    }
    if let c = settings.clipGrad {
      need(finite(c, in: 1e-12...1e12), "clip_grad \(c) must be positive")
    }
    need(
      (1...4096).contains(settings.accumulate),
      "accumulate \(settings.accumulate) must be in 1...4096")
    let o = settings.optimizer
    need(finite(o.beta1, in: 0...0.999_999), "beta1 \(o.beta1) must be in [0, 1)")
    need(finite(o.beta2, in: 0...0.999_999_9), "beta2 \(o.beta2) must be in [0, 1)")
    need(finite(o.eps, in: 1e-30...1), "eps \(o.eps) must be in 1e-30...1")
    need(finite(o.weightDecay, in: 0...10), "weight decay \(o.weightDecay) must be in 0...10")
    if let p = dataPosition { need(p >= 0, "data position \(p) must be at least 0") }
    if let m = settings.mixup { need(finite(m, in: 0...100), "mixup \(m) must be in 0...100") }
    if let c = settings.cutmix { need(finite(c, in: 0...100), "cutmix \(c) must be in 0...100") }
    if let scales = settings.lrScale {
      need(scales.allSatisfy { finite($0, in: 0...1) }, "lr scales must be in 0...1")
    }
    do { try config.validate() } catch { problems.append("config: \(error)") }
    guard problems.isEmpty else {
      throw SVFAPError.badFile(
        path: path,
        message: "the training state is not usable: " + problems.prefix(4).joined(separator: "; "))
    }
  }
}

/// Writes weights, optimizer moments and the JSON state under `key`, atomically, with the data
/// section's checksum (`svfap.data_fnv1a64`) that `readTrainingCheckpoint` verifies.
func writeTrainingCheckpoint(
  model: Module, optimizer: AdamW, state: TrainingState, key: String, to path: String
) throws {
  var tensors: [String: Tensor] = [:]
  for (k, t) in model.stateDict() { tensors["model." + k] = t }
  for (k, t) in try optimizer.stateTensors() { tensors["opt." + k] = t }
  let json = String(decoding: try JSONEncoder().encode(state), as: UTF8.self)
  try SafeTensorsFile.write(tensors, metadata: [key: json], checksum: true, to: path)
}

/// Reads a training checkpoint: the JSON state under `key`, the weights and the optimizer moments.
func readTrainingCheckpoint(_ path: String, key: String) throws -> (
  TrainingState, weights: [String: Tensor], moments: [String: Tensor]
) {
  let file = try SafeTensorsFile(path: path)
  guard let json = file.metadata[key] else {
    let other = key == "svfap.training" ? "svfap.finetuning" : "svfap.training"
    let hint =
      file.metadata[other] != nil
      ? " (it is a \(other == "svfap.training" ? "pretraining" : "fine-tuning") checkpoint)" : ""
    throw SVFAPError.badFile(
      path: path,
      message:
        """
        not a \(key == "svfap.training" ? "pretraining" : "fine-tuning") checkpoint (no \(key) \
        metadata)\(hint)
        """
    )
  }
  let state: TrainingState
  do { state = try JSONDecoder().decode(TrainingState.self, from: Data(json.utf8)) } catch {
    throw SVFAPError.badFile(path: path, message: "unreadable \(key) metadata: \(error)")
  }
  try state.validate(path: path)
  if let sum = file.metadata[SafeTensorsFile.checksumKey], sum != file.dataChecksum {
    throw SVFAPError.badFile(
      path: path,
      message:
        "its data does not match its checksum (\(SafeTensorsFile.checksumKey)): the file was changed or damaged after it was saved"
    )
  }
  var weights: [String: Tensor] = [:], opt: [String: Tensor] = [:]
  for name in file.names {
    if name.hasPrefix("model.") { weights[String(name.dropFirst(6))] = try file.tensor(name) }
    if name.hasPrefix("opt.") {
      opt[String(name.dropFirst(4))] = try file.tensor(name, dtype: .float64)
    }
  }
  return (state, weights, opt)
}
