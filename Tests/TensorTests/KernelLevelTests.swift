import Glibc
import Testing

@testable import Tensor

/// The kernel level: `SVFAP_CPU` parsing and refusals, and the x86-64-v4 build against the v3 build
/// and a Double reference on the same inputs (where this CPU runs v4).
@Suite struct KernelLevelTests {
  @Test func requestsResolveToLevels() throws {
    #expect(try KernelLevel.resolve(nil, supported: .v4) == .v4)
    #expect(try KernelLevel.resolve(nil, supported: .v3) == .v3)
    #expect(try KernelLevel.resolve("v3", supported: .v4) == .v3)
    #expect(try KernelLevel.resolve("X86-64-V4", supported: .v4) == .v4)
    #expect(throws: KernelLevelError.unsupported(.v4, supported: .v3)) {
      try KernelLevel.resolve("v4", supported: .v3)
    }
    #expect(throws: KernelLevelError.notALevel("avx512", supported: .v4)) {
      try KernelLevel.resolve("avx512", supported: .v4)
    }
  }

  @Test func refusalsNameTheCPUsLevel() {
    let e = KernelLevelError.unsupported(.v4, supported: .v3).description
    #expect(e.contains("runs up to v3") && e.contains("SVFAP_CPU=v4"), "\(e)")
    let w = KernelLevelError.notALevel("fast", supported: .v4).description
    #expect(w.contains("SVFAP_CPU=fast") && w.contains("v3 or v4") && w.contains("runs up to v4"))
  }

  @Test func theActiveLevelRunsHere() {
    #expect(KernelLevel.active <= KernelLevel.supported)
    #expect(FloatKernelTable.active.level == KernelLevel.active)
    #expect(!KernelLevel.cpuModel.isEmpty)
  }

  /// Inputs in [-4, 4) whose count leaves a partial 16-lane chunk and a row tail.
  static func inputs(_ n: Int, seed: UInt64) -> [Float] {
    var rng = SplitMix64(seed: seed)
    return (0..<n).map { _ in Float(rng.nextDouble() * 8 - 4) }
  }

  /// Each kernel of `table` against Double arithmetic: GELU, exp and sigmoid within 1e-6
  /// absolute + 4 ulps-scale relative (the polynomials' error is below 2e-7), LayerNorm and softmax
  /// within 1e-5 relative of the row's scale (Float sums of 48 terms: 48·6e-8 ≈ 3e-6).
  func check(_ table: FloatKernelTable) {
    let n = 16 * 5 + 7, x = Self.inputs(n, seed: 11)
    var y = [Float](repeating: 0, count: n)
    typealias Map = @Sendable (UnsafeRawPointer, UnsafeMutableRawPointer, Int, Int, Int) -> Void
    let gelu: (Double) -> Double = { v in v * (1 + erf(v / 2.0.squareRoot())) / 2 }
    let ex: (Double) -> Double = { v in Glibc.exp(v) }
    let sigmoid: (Double) -> Double = { v in 1 / (1 + Glibc.exp(-v)) }
    let maps: [(Map, (Double) -> Double)] = [
      (table.gelu, gelu), (table.exp, ex), (table.sigmoid, sigmoid),
    ]
    for (f, ref) in maps {
      x.withUnsafeBytes { xp in
        y.withUnsafeMutableBytes { yp in f(xp.baseAddress!, yp.baseAddress!, n, 0, (n + 15) / 16) }
      }
      for (a, v) in zip(y, x) {
        let r = ref(Double(v))
        #expect(
          abs(Double(a) - r) <= 1e-6 + 1e-6 * abs(r), "\(table.level): f(\(v)) = \(a), not \(r)")
      }
    }
    let cols = 48, rows = 3, m = Self.inputs(rows * cols, seed: 12)
    var out = [Float](repeating: 0, count: rows * cols)
    m.withUnsafeBufferPointer { mp in
      out.withUnsafeMutableBufferPointer { op in
        table.softmaxForward(mp.baseAddress!, op.baseAddress!, cols, 0.5, 0, rows)
      }
    }
    for r in 0..<rows {
      let row = m[(r * cols)..<(r * cols + cols)].map { Double($0) * 0.5 }
      let mx = row.max() ?? 0, z = row.map { Glibc.exp($0 - mx) }.reduce(0, +)
      for j in 0..<cols {
        let want = Glibc.exp(row[j] - mx) / z
        #expect(
          abs(Double(out[r * cols + j]) - want) <= 1e-5 * want + 1e-9, "\(table.level) softmax")
      }
    }
    let w = Self.inputs(cols, seed: 13), b = Self.inputs(cols, seed: 14)
    var mean = [Float](repeating: 0, count: rows), rstd = mean
    m.withUnsafeBytes { mp in
      w.withUnsafeBytes { wp in
        b.withUnsafeBytes { bp in
          out.withUnsafeMutableBytes { op in
            mean.withUnsafeMutableBufferPointer { mn in
              rstd.withUnsafeMutableBufferPointer { rs in
                table.layerNormForward(
                  mp.baseAddress!, wp.baseAddress!, bp.baseAddress!, op.baseAddress!,
                  mn.baseAddress!, rs.baseAddress!, cols, 1e-5, 0, rows)
              }
            }
          }
        }
      }
    }
    for r in 0..<rows {
      let row = m[(r * cols)..<(r * cols + cols)].map { Double($0) }
      let mu = row.reduce(0, +) / Double(cols)
      let sd = (row.map { ($0 - mu) * ($0 - mu) }.reduce(0, +) / Double(cols) + 1e-5).squareRoot()
      for j in 0..<cols {
        let want = (row[j] - mu) / sd * Double(w[j]) + Double(b[j])
        #expect(abs(Double(out[r * cols + j]) - want) <= 1e-5 * 4 * 4, "\(table.level) layer norm")
      }
    }
  }

  @Test func theV3BuildComputesItsKernels() { check(.v3) }

  @Test(
    .enabled(
      if: KernelLevel.supported == .v4,
      "this CPU has no AVX-512 (x86-64-v4): the v4 build cannot run here, only v3 is tested"))
  func theV4BuildComputesItsKernelsAsV3Does() {
    check(.v4)
    // The same arithmetic in both builds: results within a few ulps of each other.
    let n = 16 * 9 + 3, x = Self.inputs(n, seed: 21)
    var a = [Float](repeating: 0, count: n), b = a
    for f in [\FloatKernelTable.gelu, \.exp, \.sigmoid] {
      x.withUnsafeBytes { xp in
        a.withUnsafeMutableBytes {
          FloatKernelTable.v3[keyPath: f](xp.baseAddress!, $0.baseAddress!, n, 0, 10)
        }
        b.withUnsafeMutableBytes {
          FloatKernelTable.v4[keyPath: f](xp.baseAddress!, $0.baseAddress!, n, 0, 10)
        }
      }
      for (u, v) in zip(a, b) { #expect(abs(u - v) <= 4 * u.ulp + 1e-30, "v3 \(u) v4 \(v)") }
    }
  }
}
