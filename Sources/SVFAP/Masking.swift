import Tensor

/// Which tokens of each clip the encoder sees: per batch item, `visible` and `masked` token indices
/// in ascending order (token n = (t·H' + h)·W' + w). Every time slice must keep the same number of
/// visible tokens, which the TPSBT encoder needs for its temporal pyramid.
public struct TokenMask: Sendable, Equatable {
  /// Visible token indices per clip, ascending.
  public let visible: [[Int]]
  /// Masked token indices per clip, ascending.
  public let masked: [[Int]]
  /// Tokens per clip.
  public let tokenCount: Int
  /// Visible tokens per time slice.
  public let visiblePerSlice: Int

  /// A mask from per-clip booleans (true = masked, as the authors' `bool_masked_pos`).
  public init(masked flags: [[Bool]], slices: Int) throws {
    guard let n = flags.first?.count, n > 0, flags.allSatisfy({ $0.count == n }), slices > 0,
      n % slices == 0
    else {
      throw SVFAPError.badMask(
        "need equal-length boolean rows whose length divides into \(slices) time slices")
    }
    let perSlice = n / slices
    var vis: [[Int]] = [], msk: [[Int]] = []
    var v0: Int? = nil
    for row in flags {
      let v = row.enumerated().filter { !$0.element }.map(\.offset)
      for t in 0..<slices {
        let count = row[(t * perSlice)..<((t + 1) * perSlice)].filter { !$0 }.count
        let first = v0 ?? count
        v0 = first
        if count != first {
          throw SVFAPError.badMask(
            """
            time slice \(t) keeps \(count) visible tokens but slice 0 keeps \(first); TPSBT \
            needs the same count in every slice
            """
          )
        }
      }
      vis.append(v)
      msk.append(row.enumerated().filter { $0.element }.map(\.offset))
    }
    guard let v = v0, v > 0 else { throw SVFAPError.badMask("no visible token in a time slice") }
    visible = vis
    masked = msk
    tokenCount = n
    visiblePerSlice = v
  }

  /// Tube masking: one random spatial pattern per clip with int(ratio · S) masked positions,
  /// repeated in every time slice (the authors' TubeMaskingGenerator).
  public static func tube(
    batch: Int, slices: Int, perSlice: Int, ratio: Double, rng: inout SplitMix64
  ) throws -> TokenMask {
    let m = try maskedCount(ratio, perSlice)
    var rows: [[Bool]] = []
    for _ in 0..<batch { rows.append(tubeRow(slices: slices, perSlice: perSlice, masked: m, &rng)) }
    return try TokenMask(masked: rows, slices: slices)
  }

  /// Tube masking with one generator per clip: a clip's pattern depends on its own generator alone
  /// (the same whichever batch or process it is trained in).
  public static func tube(
    slices: Int, perSlice: Int, ratio: Double, rows generators: [SplitMix64]
  ) throws -> TokenMask {
    let m = try maskedCount(ratio, perSlice)
    let rows = generators.map { g in
      var g = g
      return tubeRow(slices: slices, perSlice: perSlice, masked: m, &g)
    }
    return try TokenMask(masked: rows, slices: slices)
  }

  /// One clip's tube pattern: `masked` of `perSlice` positions, the same in every slice.
  static func tubeRow(slices: Int, perSlice: Int, masked m: Int, _ rng: inout SplitMix64) -> [Bool]
  {
    var pattern = [Bool](repeating: false, count: perSlice)
    for i in 0..<m { pattern[i] = true }
    pattern.shuffle(using: &rng)
    return Array((0..<slices).map { _ in pattern }.joined())
  }

  /// Random masking: an independent random pattern in every time slice with int(ratio · S) masked
  /// positions each (so the count per slice stays equal, as TPSBT needs).
  public static func random(
    batch: Int, slices: Int, perSlice: Int, ratio: Double, rng: inout SplitMix64
  ) throws -> TokenMask {
    let m = try maskedCount(ratio, perSlice)
    var rows: [[Bool]] = []
    for _ in 0..<batch {
      var row: [Bool] = []
      for _ in 0..<slices {
        var pattern = [Bool](repeating: false, count: perSlice)
        for i in 0..<m { pattern[i] = true }
        pattern.shuffle(using: &rng)
        row += pattern
      }
      rows.append(row)
    }
    return try TokenMask(masked: rows, slices: slices)
  }

  package static func maskedCount(_ ratio: Double, _ perSlice: Int) throws -> Int {
    guard ratio >= 0, ratio < 1 else {
      throw SVFAPError.badMask("mask ratio \(ratio) must be in [0, 1)")
    }
    let m = Int(ratio * Double(perSlice))
    guard m < perSlice else {
      throw SVFAPError.badMask("ratio \(ratio) leaves no visible token of \(perSlice) per slice")
    }
    return m
  }

  /// Number of clips.
  public var batch: Int { visible.count }
}
