import Script
import Tensor

/// The bounds every size a script can ask for is checked against before anything is allocated (a
/// located error names the option and its range), chosen so the largest allowed request still fits
/// a workstation's memory and every conversion to `Int` or `UInt64` is exact.
enum Limits {
  /// Seeds: 0…2^53.
  static let seed = 0...Param.maxInteger
  /// Classes or regression targets of a head.
  static let classes = 1.0...100_000
  /// Frames per clip.
  static let frames = 1.0...1024
  /// Temporal stride between sampled frames.
  static let stride = 1.0...1000
  /// Height and width of a clip in pixels.
  static let size = 8.0...2048
  /// Clips per optimizer step or per forward pass.
  static let batch = 1.0...4096
  /// What the help of every step's `batch` adds: the memory check before the step.
  static let batchMemoryNote =
    "refused when the step's estimated memory exceeds what this machine has available"
  /// Micro-batches per update.
  static let accumulate = 1.0...1024
  /// Steps of one call or of a whole run.
  static let steps = 0.0...1e9
  /// Epochs of a call or a schedule.
  static let epochs = 0.0...1e6
  /// Clips per video (test-time averaging, views).
  static let clipsPerVideo = 1.0...64
  /// Learning rates (per 256 clips).
  static let learningRate = 0.0...100
  /// Mixup and CutMix α.
  static let alpha = 0.0...100
  /// A fraction that must stay below 1 (label smoothing, drop path, mask ratio).
  static let fraction = 0.0...0.99
  /// Layer-wise lr decay.
  static let layerDecay = 0.0...1
  /// A frame number or any other index into a video or list.
  static let index = 0.0...Param.maxInteger
  /// Worker threads.
  static let threads = 1.0...256
}

extension Limits {
  /// The most values one clip tensor a script asks for may hold (2^30 floats, 4 GiB).
  static let clipElements = 1 << 30

  /// Refuses a clip of `dims` before it is allocated when it would hold more than `clipElements`.
  static func checkClip(_ dims: [Int], _ a: Arguments) throws {
    let n = checkedElementCount(dims.map { max($0, 0) }) ?? .max
    guard n <= clipElements else {
      throw ScriptError(
        .runtime,
        """
        '\(a.command)': a clip of \(dims) holds \(n) values, more than the \(clipElements) \
        allowed (4 GiB)
        """,
        at: a.location)
    }
  }
}

/// The most classes a head or a metric may have (a confusion-matrix figure: `maxConfusionClasses`).
let maxClasses = Int(Limits.classes.upperBound)
