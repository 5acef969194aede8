import CCPU
import Glibc

/// Which build of the engine's own kernels runs: x86-64-v3 (AVX2 + FMA, every machine the engine
/// runs on) or x86-64-v4 (AVX-512), chosen once at start from what the CPU reports; `SVFAP_CPU=v3`
/// forces the older path.
public enum KernelLevel: String, Sendable, CaseIterable {
  /// x86-64-v3: AVX2 + FMA (the kernels' 16-lane vectors are two ymm registers).
  case v3
  /// x86-64-v4: AVX-512 F/CD/BW/DQ/VL (one zmm register).
  case v4

  /// The highest level this CPU and OS run.
  public static let supported: KernelLevel = svfap_cpu_has_x86_64_v4() != 0 ? .v4 : .v3

  /// The level the kernels run at: `SVFAP_CPU` where it names a level this CPU runs, else the
  /// highest it runs (a bad `SVFAP_CPU` is refused at start by `checkEnvironment`, before any
  /// kernel runs).
  public static let active: KernelLevel =
    (try? resolve(requested, supported: supported)) ?? supported

  /// `SVFAP_CPU` as set (nil when unset or empty).
  public static var requested: String? {
    guard let p = getenv("SVFAP_CPU") else { return nil }
    let s = String(cString: p)
    return s.isEmpty ? nil : s
  }

  /// The level a request asks for on a CPU that runs `supported`: nil asks for the highest;
  /// "v3"/"v4" (also "x86-64-v3"/"x86-64-v4", any case) for that level.
  public static func resolve(_ request: String?, supported: KernelLevel) throws(KernelLevelError)
    -> KernelLevel
  {
    guard let request else { return supported }
    let word = request.lowercased()
    let name = word.hasPrefix("x86-64-") ? String(word.dropFirst(7)) : word
    guard let level = KernelLevel(rawValue: name) else {
      throw .notALevel(request, supported: supported)
    }
    guard level <= supported else { throw .unsupported(level, supported: supported) }
    return level
  }

  /// Throws when `SVFAP_CPU` is set to something this CPU cannot run or that is not a level.
  public static func checkEnvironment() throws(KernelLevelError) {
    _ = try resolve(requested, supported: supported)
  }

  /// The CPU's model name as CPUID gives it ("unknown CPU" where it gives none).
  public static let cpuModel: String = {
    var buffer = [CChar](repeating: 0, count: 49)
    buffer.withUnsafeMutableBufferPointer { svfap_cpu_brand($0.baseAddress) }
    let name = String(
      decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self
    )
    .split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
    return name.isEmpty ? "unknown CPU" : name
  }()

  /// The level's name and what it uses ("x86-64-v4 (AVX-512)").
  public var title: String { self == .v4 ? "x86-64-v4 (AVX-512)" : "x86-64-v3 (AVX2 + FMA)" }

  /// One line for logs: the path that runs, why, and the CPU ("kernels: x86-64-v4 (AVX-512) on …").
  public static var summary: String {
    let why = requested != nil ? "SVFAP_CPU=\(requested ?? "")" : "the highest this CPU runs"
    return "kernels: \(active.title) (\(why); the CPU runs \(supported.rawValue)) on \(cpuModel)"
  }
}

extension KernelLevel: Comparable {
  /// v3 < v4.
  public static func < (a: KernelLevel, b: KernelLevel) -> Bool { a == .v3 && b == .v4 }
}

/// A `SVFAP_CPU` the engine cannot honour.
public enum KernelLevelError: Error, CustomStringConvertible, Equatable {
  /// A word that names no level.
  case notALevel(String, supported: KernelLevel)
  /// A level above what the CPU runs.
  case unsupported(KernelLevel, supported: KernelLevel)

  /// The message, naming this CPU's level.
  public var description: String {
    switch self {
    case .notALevel(let word, let s):
      return
        "SVFAP_CPU=\(word) is not a kernel level: use v3 or v4 (this CPU, \(KernelLevel.cpuModel), runs up to \(s.rawValue)), or unset it"
    case .unsupported(let level, let s):
      return
        "SVFAP_CPU=\(level.rawValue) asks for \(level.title), which this CPU (\(KernelLevel.cpuModel)) cannot run: it runs up to \(s.rawValue) (\(s.title)); use SVFAP_CPU=\(s.rawValue) or unset it"
    }
  }
}
