import COpenBLAS
import Foundation
import Glibc
import SVFAP
import Tensor

/// One benchmark figure, printed as a JSON line `{"name": …, "value": …, "unit": …}`.
public struct BenchFigure: Sendable {
  /// What was measured.
  public let name: String
  /// The number.
  public let value: Double
  /// Its unit.
  public let unit: String

  /// The JSON line.
  public var json: String {
    let v = value.isFinite ? String(format3(value)) : "null"
    return "{\"name\": \"\(name)\", \"value\": \(v), \"unit\": \"\(unit)\"}"
  }
}

func format3(_ v: Double) -> String {
  let scaled = (v * 1000).rounded() / 1000
  return String(scaled)
}

/// `svfap bench ops`: our matmul against raw cblas_sgemm on TPSBT-B shapes, the fused attention's
/// GFLOP/s, ns/element of the fused element-wise kernels and ns/value of the normalized-pixel
/// target on one thread.
public enum OpsBenchmark {
  /// The first line of `bench ops`: which kernel build ran and on what CPU, as JSON
  /// (`{"cpu": "…", "kernels": "v4", "supported": "v4", "svfap_cpu": null}`), so a log says which
  /// machine and path its figures come from.
  public static var kernelLine: String {
    let fields: [String: Any] = [
      "kernels": KernelLevel.active.rawValue, "supported": KernelLevel.supported.rawValue,
      "svfap_cpu": KernelLevel.requested ?? NSNull(), "cpu": KernelLevel.cpuModel,
    ]
    let data = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])
    return data.map { String(decoding: $0, as: UTF8.self) } ?? "{}"
  }

  /// The (M, K, N) shapes of TPSBT-B's hot products (visible tokens x C, all tokens x C, MLP).
  public static let shapes: [(Int, Int, Int)] = [
    (80, 512, 1536), (800, 384, 1152), (1600, 1536, 384), (800, 512, 2048),
  ]

  /// Runs every figure; `threads` applies to the matmul and attention figures (element-wise
  /// figures use one thread).
  public static func run(threads: Int, runs: Int = 20, emit: (BenchFigure) -> Void) throws {
    var rng = SplitMix64(seed: 1)
    let saved = Threads.count
    defer { Threads.count = saved }
    Threads.count = threads
    // Warm up BLAS's thread pool so the first figure does not pay for starting it.
    let warm = Tensor.randn([512, 512], rng: &rng)
    for _ in 0..<20 { _ = try Tensor.matmul(warm, warm) }
    for (m, kk, n) in shapes {
      for (ta, tb) in [(false, false), (true, false), (false, true)] {
        let a = Tensor.randn(ta ? [kk, m] : [m, kk], rng: &rng),
          b = Tensor.randn(tb ? [n, kk] : [kk, n], rng: &rng)
        let c = Tensor.zeros([m, n])
        let raw = medianSeconds(runs: runs) {
          cblas_sgemm(
            CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(kk), 1, a.pointer(Float.self), Int32(ta ? m : kk),
            b.pointer(Float.self), Int32(tb ? kk : n), 0, c.pointer(Float.self), Int32(n))
        }
        let ours = try medianSeconds(runs: runs) {
          _ = try Tensor.matmul(a, b, transA: ta, transB: tb)
        }
        let suffix = (ta ? " tA" : "") + (tb ? " tB" : "")
        emit(
          BenchFigure(
            name: "matmul/sgemm \(m)x\(kk)x\(n)\(suffix)", value: raw / ours, unit: "ratio"))
        emit(
          BenchFigure(
            name: "matmul \(m)x\(kk)x\(n)\(suffix)", value: 2 * Double(m * kk * n) / ours / 1e9,
            unit: "GFLOP/s"))
      }
    }
    try attentionFigures(runs: runs, rng: &rng, emit: emit)
    Threads.count = 1
    let rows = 1600, cols = 512, n = Double(rows * cols)
    let x = Tensor.randn([rows, cols], rng: &rng), w = Tensor.randn([cols], rng: &rng),
      bias = Tensor.randn([cols], rng: &rng)
    let g = Tensor.randn([rows, cols], rng: &rng)
    let mean = Tensor.zeros([rows]), rstd = Tensor.zeros([rows]), y = Tensor.zeros([rows, cols]),
      gx = Tensor.zeros([rows, cols])
    let gw = Tensor.zeros([cols]), gb = Tensor.zeros([cols])
    let K = Float.self
    func perElement(_ name: String, _ body: () -> Void) {
      emit(
        BenchFigure(
          name: name, value: medianSeconds(runs: runs * 5, body) / n * 1e9, unit: "ns/element"))
    }
    perElement("layernorm.forward") {
      K.layerNormForward(
        x.raw, w.raw, bias.raw, y.raw, mean.raw, rstd.raw, rows: rows, cols: cols, eps: 1e-6)
    }
    perElement("layernorm.backward") {
      K.layerNormBackward(
        g.raw, x.raw, w.raw, mean.raw, rstd.raw, gx.raw, gw.raw, gb.raw, rows: rows, cols: cols)
    }
    perElement("gelu.forward") { K.unary(.gelu, x.raw, y.raw, rows * cols) }
    perElement("gelu.backward") { K.unaryBackward(.gelu, x.raw, y.raw, g.raw, gx.raw, rows * cols) }
    perElement("softmax.forward") {
      K.softmaxForward(x.raw, y.raw, rows: rows, cols: cols, scale: 0.125)
    }
    perElement("softmax.backward") {
      K.softmaxBackward(y.raw, g.raw, gx.raw, rows: rows, cols: cols, scale: 0.125)
    }
    perElement("mse.forward") { _ = K.squaredDistance(x.raw, g.raw, rows * cols) }
    perElement("mse.backward") { K.scaledDifference(x.raw, g.raw, gx.raw, rows * cols, scale: 0.5) }
    // AdamW per parameter (a 1600 × 512 Float weight, Double moments): a tiny lr keeps it stable.
    var m = [Double](repeating: 0, count: rows * cols), v = m
    m.withUnsafeMutableBufferPointer { mp in
      v.withUnsafeMutableBufferPointer { vp in
        guard let mb = mp.baseAddress, let vb = vp.baseAddress else { return }
        perElement("adamw.update") {
          y.adamWUpdate(grad: g, m: mb, v: vb, (0.9, 0.95, 0.1, 0.05, 1e-8, 1, 1e-12))
        }
      }
    }
    try targetFigure(runs: runs, rng: &rng, emit: emit)
  }

  /// The normalized-pixel target of the masked tubelets (mask 0.9, four 16x160x160 clips,
  /// svfap-tiny's tubelets) on one thread, per target value.
  static func targetFigure(
    runs: Int, rng: inout SplitMix64, emit: (BenchFigure) -> Void
  ) throws {
    let cfg = try SVFAPConfig.preset("svfap-tiny")
    let clips = Tensor.randn([4, cfg.inChans, cfg.frames, cfg.imgSize, cfg.imgSize], rng: &rng)
    let mask = try TokenMask.tube(
      batch: 4, slices: cfg.timeSlices, perSlice: cfg.tokensPerSlice, ratio: 0.9, rng: &rng)
    let values = Double(4 * (mask.masked.first?.count ?? 0) * cfg.valuesPerTubelet)
    let seconds = try medianSeconds(runs: runs) {
      _ = try normalizedPixelTargets(clips, mask: mask, config: cfg)
    }
    emit(
      BenchFigure(
        name: "target.normalized_pixels", value: seconds / max(values, 1) * 1e9,
        unit: "ns/value"))
  }
}

extension OpsBenchmark {
  /// The fused multi-head attention of TPSBT-B's first stage (800 tokens, 8 heads of 64) and of
  /// the tiny decoder (800 tokens, 3 heads of 32, batch 4), forward and forward + backward, in
  /// GFLOP/s of its products (two per head forward, four more backward).
  static func attentionFigures(
    runs: Int, rng: inout SplitMix64, emit: (BenchFigure) -> Void
  ) throws {
    for (b, n, heads, d) in [(1, 800, 8, 64), (4, 800, 3, 32)] {
      let c = heads * d
      let qkv = Tensor.randn([b, n, 3 * c], rng: &rng)  // (B, N, 3C)
      qkv.requiresGrad = true
      func attend() throws -> Tensor {
        try Tensor.multiHeadAttention(
          q: .init(qkv), k: .init(qkv, offset: c), v: .init(qkv, offset: 2 * c), heads: heads,
          headDim: d, scale: 1 / Double(d).squareRoot()
        ).output
      }
      let forward = try medianSeconds(runs: runs) { _ = try withNoGrad { try attend() } }
      let g = Tensor.randn([b, n, c], rng: &rng)
      let both = try medianSeconds(runs: runs) {
        qkv.grad = nil
        try attend().backward(g)
      }
      let flops = 2 * 2 * Double(b * n * n * c)  // QKᵀ and PV
      let name = "attention B\(b) N\(n) \(heads)x\(d)"
      emit(BenchFigure(name: name + " forward", value: flops / forward / 1e9, unit: "GFLOP/s"))
      emit(
        BenchFigure(
          name: name + " forward+backward", value: 3 * flops / both / 1e9, unit: "GFLOP/s"))
    }
  }
}
