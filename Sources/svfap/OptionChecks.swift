import ArgumentParser
import Media
import SVFAP
import Tensor
import Tools

/// Range checks for command-line options, run by ArgumentParser's `validate()` before `run()`: an
/// absurd number is a usage error (exit 64) naming the option and its range, never a trap or an
/// allocation that cannot fit.
enum OptionCheck {
  /// `value` must lie in `range`.
  static func check<T: Comparable>(_ name: String, _ value: T, in range: ClosedRange<T>) throws {
    guard range.contains(value) else {
      throw ValidationError(
        "--\(name) must be in \(range.lowerBound)...\(range.upperBound), got \(value)")
    }
  }

  /// `value` must be finite and lie in `range`.
  static func check(_ name: String, _ value: Double, in range: ClosedRange<Double>) throws {
    guard value.isFinite, range.contains(value) else {
      throw ValidationError(
        "--\(name) must be in \(range.lowerBound)...\(range.upperBound), got \(value)")
    }
  }
}

extension Bench.Ops {
  func validate() throws {
    try OptionCheck.check("threads", threads, in: 1...256)
    try OptionCheck.check("runs", runs, in: 1...10_000)
  }
}

extension Bench.Model {
  func validate() throws {
    try OptionCheck.check("batch", batch, in: 1...4096)
    try OptionCheck.check("threads", threads, in: 1...256)
    try OptionCheck.check("runs", runs, in: 1...10_000)
    try OptionCheck.check("mask-ratio", maskRatio, in: 0...0.99)
    // One replica per core at most: more would only multiply the memory.
    if let split { try OptionCheck.check("split", split, in: 1...max(Threads.available, 1)) }
  }
}

extension Bench.Memory {
  func validate() throws {
    try OptionCheck.check("steps", steps, in: 1...1_000_000)
    try OptionCheck.check("threads", threads, in: 1...256)
  }
}

extension Flops {
  func validate() throws { try OptionCheck.check("mask-ratio", maskRatio, in: 0...0.99) }
}

extension ClipCommand {
  func validate() throws {
    try OptionCheck.check("frames", frames, in: 1...1024)
    try OptionCheck.check("stride", stride, in: 1...1000)
    try OptionCheck.check("size", size, in: 8...2048)
    if let start { try OptionCheck.check("start", start, in: 0...Int(1 << 40)) }
  }
}

extension Synth {
  func validate() throws {
    try OptionCheck.check("identities", identities, in: 1...1000)
    try OptionCheck.check("clips", clips, in: 1...100)
    try OptionCheck.check("frames", frames, in: 2...10_000)
    try OptionCheck.check("size", size, in: 16...2048)
    guard size % 2 == 0 else {
      throw ValidationError("--size must be even (the video encoders need it), got \(size)")
    }
    try OptionCheck.check("test-identities", testIdentities, in: 0...(identities - 1))
    try OptionCheck.check("noise", noise, in: 0...1)
  }
}

extension Bench.MediaBench {
  func validate() throws { try OptionCheck.check("runs", runs, in: 1...10_000) }
}

extension Bench.PlotBench {
  func validate() throws { try OptionCheck.check("runs", runs, in: 1...10_000) }
}

/// The model vocabulary as command-line values (`--task pretrain`), listed in `--help`.
extension ModelTask: ExpressibleByArgument {}
extension BenchmarkMode: ExpressibleByArgument {}
extension FaceDetectors.Kind: ExpressibleByArgument {}
