import Foundation
import Testing

@testable import SVFAP
@testable import Tensor

/// Optimizer, schedules, metrics, incremental training and resumable checkpoints.
@Suite struct TrainingTests {
  /// A tiny 32x32 configuration for fast steps.
  func smallConfig() throws -> SVFAPConfig {
    var c = try SVFAPConfig.preset("svfap-tiny")
    (c.imgSize, c.patchSize, c.dim, c.heads, c.decoderDim, c.decoderHeads, c.bottleneckHidden) = (
      32, 8, 32, 2, 32, 2, 16
    )
    return c
  }

  @Test func adamWStepEqualsHandComputedUpdate() throws {
    final class Two: Module {
      let weight: Tensor
      let bias: Tensor
      override init() {
        weight = try! Tensor([1, -2, 3, 0.5], shape: [2, 2], dtype: .float64)
        bias = try! Tensor([0.1, 0.2], shape: [2], dtype: .float64)
        super.init()
        requireGrad()
      }
    }
    let m = Two()
    var s = AdamW.Settings()
    (s.beta1, s.beta2, s.eps, s.weightDecay) = (0.9, 0.95, 1e-8, 0.05)
    let opt = AdamW(m, settings: s)
    m.weight.grad = try Tensor([0.5, -1, 0, 2], shape: [2, 2], dtype: .float64)
    m.bias.grad = try Tensor([1, -1], shape: [2], dtype: .float64)
    opt.update(lr: 0.1)
    // Step 1: m̂ = g, v̂ = g², update = g / (|g| + eps) = sign(g); the weight decays, the bias does
    // not.
    let w = m.weight.toDoubles(), b = m.bias.toDoubles()
    let w0: [Double] = [1, -2, 3, 0.5], g0: [Double] = [0.5, -1, 0, 2]
    var expectW: [Double] = []
    for i in 0..<4 {
      let sign: Double = g0[i] / (abs(g0[i]) + 1e-8)
      expectW.append(w0[i] * (1 - 0.1 * 0.05) - 0.1 * sign)
    }
    for (a, e) in zip(w, expectW) { #expect(abs(a - e) < 1e-12) }
    for (a, e) in zip(b, [0.1 - 0.1, 0.2 + 0.1]) { #expect(abs(a - e) < 1e-7) }
    #expect(m.weight.grad == nil)
    // Step 2 with another gradient, against the formulas.
    m.weight.grad = try Tensor([1, 1, 1, 1], shape: [2, 2], dtype: .float64)
    let before = m.weight.toDoubles()
    opt.update(lr: 0.1)
    let g1: [Double] = [0.5, -1, 0, 2]
    let after = m.weight.toDoubles()
    for i in 0..<4 {
      let mm: Double = 0.9 * 0.1 * g1[i] + 0.1
      let vv: Double = 0.95 * 0.05 * g1[i] * g1[i] + 0.05
      let upd: Double = (mm / (1 - 0.81)) / ((vv / (1 - 0.9025)).squareRoot() + 1e-8)
      let want: Double = before[i] * (1 - 0.005) - 0.1 * upd
      #expect(abs(after[i] - want) < 1e-12)
    }
  }

  /// Float weights follow the same formula in Double, rounded once per weight;
  /// the gradient norm for clipping sums the squares of every element.
  @Test func adamWOnFloatWeightsFollowsTheFormula() throws {
    final class Vector: Module {
      let weight: Tensor
      init(_ values: [Double]) {
        weight = try! Tensor(values, shape: [values.count / 3, 3], dtype: .float32)
        super.init()
        requireGrad()
      }
    }
    let w0 = (0..<39).map { Double($0 % 7) * 0.25 - 0.8 }
    let g0 = (0..<39).map { Double($0 % 5) * 0.3 - 0.5 }
    let m = Vector(w0)
    let opt = AdamW(m)
    m.weight.grad = try Tensor(g0, shape: [13, 3], dtype: .float32)
    let norm = opt.clipGradients(maxNorm: nil)
    let g32 = g0.map { Double(Float($0)) }
    #expect(abs(norm - g32.map { $0 * $0 }.reduce(0, +).squareRoot()) < 1e-6)
    opt.update(lr: 0.01)
    let (b1, b2) = (opt.settings.beta1, opt.settings.beta2)
    for (i, got) in m.weight.toDoubles().enumerated() {
      let g = g32[i], w = Double(Float(w0[i]))
      let mm = (1 - b1) * g, vv = (1 - b2) * g * g
      let upd = (mm / (1 - b1)) / ((vv / (1 - b2)).squareRoot() + opt.settings.eps)
      let want = Float(w * (1 - 0.01 * opt.settings.weightDecay) - 0.01 * upd)
      #expect(Float(got) == want, "weight \(i)")
    }
  }

  @Test func cosineScheduleAtKnownSteps() {
    let s = CosineSchedule(baseLR: 3e-4, minLR: 1e-5, warmupSteps: 11, totalSteps: 111, batch: 512)
    #expect(s.peakLR == 6e-4)
    #expect(s.endLR == 2e-5)
    #expect(s.lr(at: 0) == 0)
    #expect(abs(s.lr(at: 5) - 3e-4) < 1e-15)  // linspace(0, peak, 11)[5]
    #expect(abs(s.lr(at: 10) - 6e-4) < 1e-15)  // the last warmup step reaches the peak
    #expect(abs(s.lr(at: 11) - 6e-4) < 1e-15)  // cosine i = 0
    #expect(abs(s.lr(at: 61) - (2e-5 + 0.5 * (6e-4 - 2e-5))) < 1e-15)
    #expect(abs(s.lr(at: 111) - 2e-5) < 1e-15)
  }

  @Test func layerDecayGroups() {
    let names = [
      "patch_embed.proj.weight", "blocks.0.attn.qkv.weight", "blocks.2.mlp.fc1.bias",
      "temporal_downsamples.0.weight",
      "spatial_downsamples.1.norm.weight", "fc_norm.weight", "head.weight",
    ]
    // 5 blocks: top layer 6
    let s = layerDecayScales(names: names, stageDepths: [2, 2, 1], decay: 0.5)
    // get_num_layer_for_vit: the downsampling modules are not blocks, so they are the top layer.
    let exponents: [Double] = [6, 5, 3, 0, 0, 0, 0]
    let want: [Double] = exponents.map { Foundation.pow(0.5, $0) }
    #expect(s == want)
  }

  @Test func metricsAgainstHandComputedValues() {
    let actual = [0, 0, 0, 1, 1, 2], predicted = [0, 0, 1, 1, 2, 2]
    #expect(Metrics.war(predicted: predicted, actual: actual) == 4.0 / 6)
    #expect(
      abs(Metrics.uar(predicted: predicted, actual: actual, classes: 3) - (2.0 / 3 + 0.5 + 1) / 3)
        < 1e-12)
    // F1: class 0 p=1 r=2/3 -> 0.8 (support 3); class 1 p=1/2 r=1/2 -> 0.5 (2); class 2 p=1/2 r=1
    // -> 2/3 (1).
    #expect(
      abs(
        Metrics.weightedF1(predicted: predicted, actual: actual, classes: 3)
          - (0.8 * 3 + 0.5 * 2 + 2.0 / 3) / 6) < 1e-12)
    // Classes nobody uses change nothing (and cost items + classes, not classes²).
    #expect(
      Metrics.uar(predicted: predicted, actual: actual, classes: 100_000)
        == Metrics.uar(predicted: predicted, actual: actual, classes: 3))
    #expect(
      Metrics.weightedF1(predicted: predicted, actual: actual, classes: 100_000)
        == Metrics.weightedF1(predicted: predicted, actual: actual, classes: 3))
    #expect(Metrics.recalls(predicted: [0, 5], actual: [0, 9], classes: 10)[9] == 0)
    #expect(
      Metrics.confusion(predicted: predicted, actual: actual, classes: 3) == [
        [2, 1, 0], [0, 1, 1], [0, 0, 1],
      ])
    let x = [1.0, 2, 3, 4], y = [2.0, 4, 6, 8]
    #expect(abs(Metrics.pcc(x, y) - 1) < 1e-12)
    // CCC: mx 2.5, my 5, vx 1.25, vy 5, cov 2.5 -> 5 / (1.25 + 5 + 6.25) = 0.4.
    #expect(abs(Metrics.ccc(x, y) - 0.4) < 1e-12)
    #expect(abs(Metrics.oneMinusMAE([0.5, 0.7], [0.4, 0.9]) - 0.85) < 1e-12)
    let pooled = Metrics.poolFolds([
      (predicted: [0, 1], actual: [0, 0]), (predicted: [1], actual: [1]),
    ])
    #expect(pooled.predicted == [0, 1, 1] && pooled.actual == [0, 0, 1])
    #expect(
      abs(Metrics.uar(predicted: pooled.predicted, actual: pooled.actual, classes: 2) - 0.75)
        < 1e-12)
  }

  @Test func trainingInTwoCallsEqualsOneRunAndResumesBitForBit() throws {
    let cfg = try smallConfig()
    var rng = SplitMix64(seed: 4)
    let clips = [Tensor.randn([2, 3, 16, 32, 32], rng: &rng)]
    let a = Pretrainer(model: try PretrainModel(cfg, seed: 1), totalSteps: 6, batch: 2, seed: 9)
    try a.train(clips: clips, steps: 6, batch: 2)
    let b = Pretrainer(model: try PretrainModel(cfg, seed: 1), totalSteps: 6, batch: 2, seed: 9)
    try b.train(clips: clips, steps: 3, batch: 2)
    let dir = try tempDir()
    let path = dir.appendingPathComponent("ckpt.safetensors").path
    try b.save(to: path)
    try b.train(clips: clips, steps: 3, batch: 2)
    #expect(a.log.map(\.loss) == b.log.map(\.loss))
    let c = try Pretrainer.resume(from: path)
    #expect(c.step == 3)
    try c.train(clips: clips, steps: 3, batch: 2)
    #expect(c.log.map(\.loss) == a.log.map(\.loss))
    #expect(
      c.model.encoder.patchEmbed.proj.weight.toFloats()
        == a.model.encoder.patchEmbed.proj.weight.toFloats())
  }

  @Test func interruptStopsAtAStepBoundaryAndNonFiniteLossStops() throws {
    let cfg = try smallConfig()
    var rng = SplitMix64(seed: 5)
    let clip = Tensor.randn([1, 3, 16, 32, 32], rng: &rng)
    let t = Pretrainer(model: try PretrainModel(cfg, seed: 2), totalSteps: 10, batch: 1)
    var calls = 0
    let stop = try t.train(
      clips: [clip], steps: 10, batch: 1,
      shouldStop: {
        calls += 1
        return calls > 2
      })
    #expect(stop == .interrupted && t.step == 2)
    let bad = clip.copy()
    bad[flat: 0] = .nan
    let before = t.model.encoder.patchEmbed.proj.weight.toFloats()
    #expect(try t.train(clips: [bad], steps: 1, batch: 1) == .nonFinite(step: 3))
    #expect(t.model.encoder.patchEmbed.proj.weight.toFloats() == before)
  }

  @Test func gradientAccumulation() throws {
    let cfg = try smallConfig()
    var rng = SplitMix64(seed: 7)
    let clip = Tensor.randn([2, 3, 16, 32, 32], rng: &rng)
    let t = Pretrainer(model: try PretrainModel(cfg, seed: 4), totalSteps: 3, batch: 1)
    t.accumulate = 2
    try t.train(clips: [clip], steps: 3, batch: 1)
    #expect(t.step == 3 && t.log.count == 3 && t.log.allSatisfy { $0.loss.isFinite })
  }

  @Test func pretrainingLossFalls() throws {
    let cfg = try smallConfig()
    var rng = SplitMix64(seed: 6)
    let clip = Tensor.randn([2, 3, 16, 32, 32], rng: &rng)
    let t = Pretrainer(
      model: try PretrainModel(cfg, seed: 3), totalSteps: 40, batch: 2, baseLR: 0.1)
    try t.train(clips: [clip], steps: 40, batch: 2)
    let first = t.log.prefix(5).map(\.loss).reduce(0, +) / 5,
      last = t.log.suffix(5).map(\.loss).reduce(0, +) / 5
    #expect(last < first * 0.9, "loss \(first) -> \(last)")
  }
}

/// Fine-tuning on small data: the classifier fits its training clips; CCC regression runs; bad
/// labels are refused before training.
@Suite struct FinetuneTests {
  @Test func classifierFitsAndRegressionRuns() throws {
    var cfg = try SVFAPConfig.preset("svfap-tiny")
    (cfg.imgSize, cfg.patchSize, cfg.dim, cfg.heads, cfg.numClasses, cfg.bottleneckHidden) = (
      32, 8, 32, 2, 3, 16
    )
    var rng = SplitMix64(seed: 1)
    // Three classes that differ in brightness.
    var clips: [Tensor] = []
    for i in 0..<6 {
      let noise = Tensor.randn([1, 3, 16, 32, 32], std: 0.3, rng: &rng)
      clips.append(noise + (Double(i % 3) - 1))
    }
    let labels = (0..<6).map { [Double($0 % 3)] }
    let ft = Finetuner(
      model: try FinetuneModel(cfg, seed: 2), task: .classification(smoothing: 0.1), totalSteps: 60,
      batch: 3, baseLR: 0.5)
    try ft.train(clips: clips, targets: labels, steps: 60, batch: 3)
    let probs = try ft.predict(videos: clips.map { [$0] })
    let predicted = probs.map { p in p.indices.max { p[$0] < p[$1] }! }
    #expect(
      Metrics.war(predicted: predicted, actual: labels.map { Int($0[0]) }) == 1,
      "losses \(ft.losses.prefix(3)) … \(ft.losses.suffix(3))")
    #expect {
      try ft.train(clips: clips, targets: labels.map { [$0[0] + 5] }, steps: 1, batch: 1)
    } throws: { "\($0)".contains("outside 0..<3") }
    // Mixup and CutMix train on soft targets.
    let mixed = Finetuner(
      model: try FinetuneModel(cfg, seed: 4), task: .classification(smoothing: 0.1), totalSteps: 4,
      batch: 4)
    (mixed.mixupAlpha, mixed.cutmixAlpha) = (0.8, 1.0)
    try mixed.train(clips: clips, targets: labels, steps: 4, batch: 4)
    #expect(mixed.losses.count == 4 && mixed.losses.allSatisfy { $0.isFinite && $0 > 0 })
    let (x, soft) = try mixed.mix(
      try Tensor.concat(Array(clips.prefix(4)), axis: 0), labels: [0, 1, 2, 0], smoothing: 0.1)
    #expect(x.shape == [4, 3, 16, 32, 32])
    for row in 0..<4 {
      #expect(abs((0..<3).map { soft[flat: row * 3 + $0] }.reduce(0, +) - 1) < 1e-6)
    }  // float32
    cfg.numClasses = 2
    cfg.headActivation = .tanh
    let reg = Finetuner(
      model: try FinetuneModel(cfg, seed: 3), task: .regression(loss: .ccc), totalSteps: 5, batch: 3
    )
    var targets: [[Double]] = []
    for i in 0..<6 { targets.append([Double(i % 3) / 2 - 0.5, 0.1 * Double(i)]) }
    try reg.train(clips: clips, targets: targets, steps: 5, batch: 3)
    #expect(reg.losses.count == 5 && reg.losses.allSatisfy { $0.isFinite && $0 >= 0 && $0 <= 2 })
  }
}

@Suite struct FinetuneResumeTests {
  func data() throws -> (SVFAPConfig, [Tensor], [[Double]]) {
    var cfg = try SVFAPConfig.preset("svfap-tiny")
    (cfg.imgSize, cfg.patchSize, cfg.dim, cfg.heads, cfg.numClasses, cfg.bottleneckHidden) = (
      32, 8, 32, 2, 3, 16
    )
    var rng = SplitMix64(seed: 11)
    let clips = (0..<4).map { i in
      Tensor.randn([1, 3, 16, 32, 32], std: 0.5, rng: &rng) + Double(i % 3)
    }
    return (cfg, clips, (0..<4).map { [Double($0 % 3)] })
  }

  @Test func resumedFineTuningGivesTheLossesOfAnUninterruptedRun() throws {
    let (cfg, clips, labels) = try data()
    func fresh() throws -> Finetuner {
      let f = Finetuner(
        model: try FinetuneModel(cfg, seed: 3), task: .classification(smoothing: 0.1),
        totalSteps: 6, batch: 2, baseLR: 0.5, seed: 5)
      (f.mixupAlpha, f.clipGrad) = (0.8, 1.0)
      return f
    }
    let a = try fresh()
    try a.train(clips: clips, targets: labels, steps: 6, batch: 2)
    // Interrupted after 2 steps by Ctrl-C (shouldStop), checkpointed, resumed in a new object.
    let b = try fresh()
    var polls = 0
    #expect(
      try b.train(
        clips: clips, targets: labels, steps: 6, batch: 2,
        shouldStop: {
          polls += 1
          return polls > 2
        }) == .interrupted)
    #expect(b.step == 2)
    let path = try tempDir().appendingPathComponent("ft.safetensors").path
    try b.save(to: path)
    let c = try Finetuner.resume(from: path)
    #expect(
      c.step == 2 && c.log == b.log && c.mixupAlpha == 0.8 && c.clipGrad == 1.0
        && c.task == .classification(smoothing: 0.1))
    try c.train(clips: clips, targets: labels, steps: 4, batch: 2)
    #expect(c.losses == a.losses)
    #expect(c.model.head.weight.toFloats() == a.model.head.weight.toFloats())
    // A pretraining checkpoint is not a fine-tuning one, and says so.
    let p = Pretrainer(model: try PretrainModel(cfg, seed: 1), totalSteps: 1, batch: 1)
    let pretrainPath = try tempDir().appendingPathComponent("pre.safetensors").path
    try p.save(to: pretrainPath)
    #expect { try Finetuner.resume(from: pretrainPath) } throws: {
      "\($0)".contains("it is a pretraining checkpoint")
    }
    // A truncated checkpoint is refused, saying what is wrong.
    let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
    try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: path))
    #expect { try Finetuner.resume(from: path) } throws: {
      "\($0)".contains("outside the data section")
    }
  }

  @Test func gradientClippingAndAccumulationInFineTuning() throws {
    let (cfg, clips, labels) = try data()
    let f = Finetuner(
      model: try FinetuneModel(cfg, seed: 3), task: .classification(smoothing: 0), totalSteps: 3,
      batch: 2)
    (f.clipGrad, f.accumulate) = (1e-3, 2)
    try f.train(clips: clips, targets: labels, steps: 3, batch: 2)
    #expect(
      f.log.count == 3
        && f.log.allSatisfy { $0.gradNorm.isFinite && $0.gradNorm > 1e-3 && $0.lr >= 0 })
  }
}

@Suite struct LinearProbeTests {
  @Test func classifierSeparatesSeparableClasses() throws {
    var rng = SplitMix64(seed: 2)
    var x: [[Double]] = [], y: [Int] = []
    for i in 0..<30 {
      let c = i % 3
      x.append([
        Double(c) * 3 + rng.nextNormal() * 0.3, rng.nextNormal(),
        -Double(c) + rng.nextNormal() * 0.3,
      ])
      y.append(c)
    }
    let probe = try LinearProbe.classifier(features: x, labels: y, classes: 3)
    let predicted = probe.predict(x).map { p in p.indices.max { p[$0] < p[$1] }! }
    #expect(predicted == y)
    #expect(probe.predict(x).allSatisfy { abs($0.reduce(0, +) - 1) < 1e-12 })
    #expect {
      try LinearProbe.classifier(features: x, labels: y.map { $0 + 1 }, classes: 3)
    } throws: { "\($0)".contains("outside 0..<3") }
  }

  @Test func ridgeWithoutPenaltyRecoversALinearMap() throws {
    // y = 2 x0 − x1 + 3 and y2 = x1 / 2: exact, so the fitted predictions equal the targets.
    let x: [[Double]] = [[0, 1], [1, 0], [2, 3], [4, -1], [-1, 2]]
    let y = x.map { [2 * $0[0] - $0[1] + 3, $0[1] / 2] }
    let probe = try LinearProbe.regressor(features: x, targets: y, l2: 0)
    for (p, t) in zip(probe.predict([[10, 10]] + x), [[13, 5]] + y) {
      for (a, b) in zip(p, t) { #expect(abs(a - b) < 1e-9) }
    }
  }
}
