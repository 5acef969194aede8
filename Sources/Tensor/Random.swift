import Glibc

/// A small, fast, seedable generator (SplitMix64) with uniform and normal samples; its whole state
/// is one UInt64, so checkpoints can store it and a resumed run repeats exactly.
public struct SplitMix64: RandomNumberGenerator, Sendable {
  /// The generator's state.
  public var state: UInt64

  /// A generator started from `seed`.
  public init(seed: UInt64) { state = seed }

  /// The next 64 random bits.
  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// Uniform in [0, 1).
  public mutating func nextDouble() -> Double { Double(next() >> 11) * 0x1.0p-53 }

  /// Standard normal (Box-Muller; one of the pair is used, so `state` alone is the whole state).
  public mutating func nextNormal() -> Double {
    var u = nextDouble()
    while u <= 0 { u = nextDouble() }
    let v = nextDouble()
    return (-2 * _log(u)).squareRoot() * _cos(2 * .pi * v)
  }
}

/// One generator per batch row: a row's draws (drop-path coins) depend on its own seed alone, not
/// on which rows share its batch, so a sample draws the same wherever it is trained (any batch split
/// over any number of processes).
public struct RowGenerators: Sendable {
  /// The generators, row by row.
  public var generators: [SplitMix64]

  /// Generators seeded with `seeds`, one per row.
  public init(seeds: [UInt64]) { generators = seeds.map { SplitMix64(seed: $0) } }

  /// `batch` generators seeded from `rng`'s next draws.
  public init(batch: Int, from rng: inout SplitMix64) {
    generators = (0..<max(batch, 0)).map { _ in SplitMix64(seed: rng.next()) }
  }
}

@inline(__always) func _log(_ x: Double) -> Double { Glibc.log(x) }
@inline(__always) func _cos(_ x: Double) -> Double { Glibc.cos(x) }
