import Foundation
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
    dataSeed = seed &+ 0x5EED
  }

  /// Takes `other`'s schedule, optimizer settings and lr scales, clipping, accumulation and data
  /// seed (not its log file: one writer per run).
  func copySettings(from other: TrainingRunState) {
    schedule = other.schedule
    optimizer.settings = other.optimizer.settings
    optimizer.lrScale = other.optimizer.lrScale
    (clipGrad, accumulate, dataSeed, dataPosition) = (
      other.clipGrad, other.accumulate, other.dataSeed, other.dataPosition
    )
    rng = other.rng
  }

  /// The shared part of the checkpoint state (the subclass adds its own fields).
  func state(config: SVFAPConfig, maskRatio: Double?, modelRNG: [UInt64]) -> TrainingState {
    var state = TrainingState(
      step: step, rngState: rng.state, schedule: schedule, maskRatio: maskRatio, clipGrad: clipGrad,
      accumulate: accumulate, optimizer: optimizer.settings, config: config, log: log)
    (state.dataPosition, state.dataSeed, state.modelRNG) = (dataPosition, dataSeed, modelRNG)
    return state
  }

  /// Restores the shared part from a checkpoint's state and optimizer moments.
  func restore(_ meta: TrainingState, moments: [String: Tensor]) throws {
    schedule = meta.schedule
    optimizer.settings = meta.optimizer
    try optimizer.restore(moments, step: meta.step)
    (clipGrad, accumulate) = (meta.clipGrad, meta.accumulate ?? 1)
    rng.state = meta.rngState
    log = meta.log
    dataPosition = meta.dataPosition ?? 0
    if let seed = meta.dataSeed { dataSeed = seed }
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

/// Appends one JSON object and a newline to a file (created when missing).
func appendJSONLine<T: Encodable>(_ entry: T, to path: String) throws {
  var data = try JSONEncoder().encode(entry)
  data.append(0x0A)
  if let h = FileHandle(forWritingAtPath: path) {
    defer { try? h.close() }
    try h.seekToEnd()
    try h.write(contentsOf: data)
  } else {
    try data.write(to: URL(fileURLWithPath: path))
  }
}

/// The training-checkpoint half that is not tensors: what `Pretrainer` and `Finetuner` store as
/// JSON metadata next to weights (`model.*`) and optimizer moments (`opt.*`).
struct TrainingState: Codable {
  let step: Int
  let rngState: UInt64
  let schedule: CosineSchedule
  let maskRatio: Double?
  let clipGrad: Double?
  let accumulate: Int?
  let optimizer: AdamW.Settings
  let config: SVFAPConfig
  let log: [StepLog]
  /// Fine-tuning only: the task, per-parameter lr scales, mixup and cutmix α.
  var task: Finetuner.Task? = nil
  var lrScale: [Double]? = nil
  var mixup: Double? = nil, cutmix: Double? = nil
  /// Streamed data: samples consumed and the stream's seed.
  var dataPosition: Int? = nil, dataSeed: UInt64? = nil
  /// The models' own generators (drop-path masks): the encoder's, then the decoder's when
  /// pretraining.
  var modelRNG: [UInt64]? = nil
}

/// Writes weights, optimizer moments and the JSON state under `key`, atomically.
func writeTrainingCheckpoint(
  model: Module, optimizer: AdamW, state: TrainingState, key: String, to path: String
) throws {
  var tensors: [String: Tensor] = [:]
  for (k, t) in model.stateDict() { tensors["model." + k] = t }
  for (k, t) in try optimizer.stateTensors() { tensors["opt." + k] = t }
  let json = String(decoding: try JSONEncoder().encode(state), as: UTF8.self)
  try SafeTensorsFile.write(tensors, metadata: [key: json], to: path)
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
  var weights: [String: Tensor] = [:], opt: [String: Tensor] = [:]
  for name in file.names {
    if name.hasPrefix("model.") { weights[String(name.dropFirst(6))] = try file.tensor(name) }
    if name.hasPrefix("opt.") {
      opt[String(name.dropFirst(4))] = try file.tensor(name, dtype: .float64)
    }
  }
  return (state, weights, opt)
}
