import Testing

@testable import SVFAP
@testable import Tensor

/// Presets, FLOPs against the paper, masking, and bad input.
@Suite struct ModelTests {
  func within(_ a: Double, _ b: Double, _ rel: Double = 0.01) -> Bool { abs(a - b) <= rel * b }

  @Test func flopsAndParametersMatchThePaper() throws {
    let base = try SVFAPConfig.preset("svfap-base")
    #expect(within(Double(try FinetuneModel(base).parameterCount) / 1e6, 77.6))
    #expect(within(FLOPs.finetune(base) / 1e9, 43.6))
    for (r, g) in [(0.75, 18.4), (0.85, 14.7), (0.90, 12.9), (0.95, 11.2)] {
      #expect(within(FLOPs.pretrain(base, maskRatio: r) / 1e9, g), "mask \(r)")
    }
    let small = try SVFAPConfig.preset("svfap-small")
    // the paper rounds to 30 M
    #expect(within(Double(try FinetuneModel(small).parameterCount) / 1e6, 30, 0.02))
    #expect(within(FLOPs.finetune(small) / 1e9, 18))
    let vit = try SVFAPConfig.preset("vit-base-512")
    #expect(within(Double(try FinetuneModel(vit).parameterCount) / 1e6, 76.4))
    #expect(within(FLOPs.finetune(vit) / 1e9, 76.9))
  }

  @Test func tubeMaskKeepsTheSamePositionsInEverySlice() throws {
    var rng = SplitMix64(seed: 3)
    let m = try TokenMask.tube(batch: 2, slices: 8, perSlice: 100, ratio: 0.9, rng: &rng)
    #expect(m.visiblePerSlice == 10)
    #expect(m.visible[0].count == 80 && m.masked[0].count == 720)
    let first = m.visible[0].prefix(10).map { $0 % 100 }
    for t in 0..<8 { #expect(m.visible[0][(t * 10)..<(t * 10 + 10)].map { $0 % 100 } == first) }
    var rng2 = SplitMix64(seed: 3)
    #expect(try TokenMask.tube(batch: 2, slices: 8, perSlice: 100, ratio: 0.9, rng: &rng2) == m)
    // An odd count of visible tokens per slice (0.75 of 4x4 -> 12 masked, 4 visible; 0.85 of 100 ->
    // 15).
    let odd = try TokenMask.tube(batch: 1, slices: 8, perSlice: 100, ratio: 0.85, rng: &rng)
    #expect(odd.visiblePerSlice == 15)
    let random = try TokenMask.random(batch: 1, slices: 8, perSlice: 100, ratio: 0.9, rng: &rng)
    #expect(random.visiblePerSlice == 10)
    let patterns: [[Int]] = (0..<8).map { (t: Int) -> [Int] in
      random.visible[0][(t * 10)..<(t * 10 + 10)].map { $0 % 100 }
    }
    #expect(Set(patterns).count > 1)
    #expect(throws: SVFAPError.self) {
      try TokenMask.tube(batch: 1, slices: 8, perSlice: 100, ratio: 1.0, rng: &rng)
    }
  }

  @Test func theFloatTargetKernelMatchesTheDoubleOne() throws {
    // The SIMD float32 path (16-pixel patches) against the generic path in float64 on the same
    // pixels: the same per-tubelet normalized values, (t, h, w, c) layout included.
    let c = try SVFAPConfig.preset("svfap-tiny")
    var rng = SplitMix64(seed: 5)
    let clip = Tensor.randn([2, 3, c.frames, c.imgSize, c.imgSize], rng: &rng)
    let mask = try TokenMask.tube(
      batch: 2, slices: c.timeSlices, perSlice: c.tokensPerSlice, ratio: 0.9, rng: &rng)
    let fast = try normalizedPixelTargets(clip, mask: mask, config: c).toDoubles()
    let exact = try normalizedPixelTargets(clip.to(.float64), mask: mask, config: c).toDoubles()
    #expect(fast.count == exact.count && fast.count == 2 * 720 * c.valuesPerTubelet)
    let worst = zip(fast, exact).map { abs($0 - $1) }.max() ?? .infinity
    #expect(worst < 1e-5, "largest difference \(worst)")
  }

  @Test func pretrainingRunsWithAnOddVisibleCount() throws {
    // 16x32x32 clips, 16 patches per slice, ratio 0.7 -> 11 masked, 5 visible (odd) per slice.
    var cfg = try SVFAPConfig.preset("svfap-tiny")
    (cfg.imgSize, cfg.patchSize) = (32, 8)
    let model = try PretrainModel(cfg, seed: 1)
    var rng = SplitMix64(seed: 2)
    let clip = Tensor.randn([1, 3, 16, 32, 32], rng: &rng)
    let mask = try TokenMask.tube(batch: 1, slices: 8, perSlice: 16, ratio: 0.7, rng: &rng)
    #expect(mask.visiblePerSlice == 5)
    let (loss, out, target) = try model.loss(clip, mask: mask)
    #expect(out.shape == [1, 88, 384] && target.shape == out.shape)
    #expect(try loss.item().isFinite)
    try loss.backward()
    // the bottleneck is trained
    #expect(model.encoder.spatialDownsamples[0].mlp.fc1.weight.grad != nil)
  }

  /// The parameters whose true gradient is zero, which equivalence tests compare on Adam's scale
  /// instead of the arithmetic's (DistributedTests): exactly the bottleneck MLPs' fc2 biases (each
  /// adds one constant to all logits of a bottleneck token's softmax over the patches, which the
  /// softmax ignores). In float64 their gradient is rounding noise, below 1e-6 of their layer's
  /// weight gradient; every other parameter's gradient is above that share of its own layer's.
  @Test func onlyTheBottleneckLogitBiasesHaveNoGradient() throws {
    var cfg = try SVFAPConfig.preset("svfap-tiny")
    (cfg.imgSize, cfg.patchSize) = (32, 8)
    let model = try PretrainModel(cfg, dtype: .float64, seed: 1)
    var rng = SplitMix64(seed: 6)
    let clip = Tensor.randn([2, 3, 16, 32, 32], dtype: .float64, rng: &rng)
    let mask = try TokenMask.tube(batch: 2, slices: 8, perSlice: 16, ratio: 0.75, rng: &rng)
    try model.loss(clip, mask: mask).loss.backward()
    let params = model.namedParameters()
    func norm(_ t: Tensor?) -> Double {
      (t?.toDoubles() ?? []).map { $0 * $0 }.reduce(0, +).squareRoot()
    }
    let byName = Dictionary(params.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
    var zero: [String] = []
    for (name, t) in params {
      // Its layer's scale: the layer's weight gradient (or its own, for a weight or a lone tensor).
      let layer = name.hasSuffix(".bias") ? String(name.dropLast(4)) + "weight" : name
      let scale = norm(byName[layer]?.grad ?? t.grad)
      if norm(t.grad) <= 1e-6 * scale || scale == 0 { zero.append(name) }
    }
    let expected = (0..<model.encoder.spatialDownsamples.count).map {
      "encoder.spatial_downsamples.\($0).mlp.fc2.bias"
    }
    #expect(zero.sorted() == expected.sorted(), "no gradient: \(zero)")
  }

  @Test func maskedPixelsDoNotReachTheEncoder() throws {
    // Paper-faithful model: the loss's gradient w.r.t. masked input pixels is exactly zero (defect
    // 1 of the released code leaked them).
    var cfg = try SVFAPConfig.preset("svfap-tiny")
    (cfg.imgSize, cfg.patchSize) = (32, 8)
    let model = try PretrainModel(cfg, dtype: .float64, seed: 1)
    var rng = SplitMix64(seed: 5)
    let clip = Tensor.randn([1, 3, 16, 32, 32], dtype: .float64, rng: &rng)
    clip.requiresGrad = true
    let mask = try TokenMask.tube(batch: 1, slices: 8, perSlice: 16, ratio: 0.75, rng: &rng)
    try model.loss(clip, mask: mask).loss.backward()
    let g = clip.grad!.toDoubles()
    let maskedSpatial = Set(mask.masked[0].filter { $0 < 16 })
    var maskedMax = 0.0, visibleMax = 0.0
    for c in 0..<3 {
      for f in 0..<16 {
        for y in 0..<32 {
          for x in 0..<32 {
            let v = abs(g[((c * 16 + f) * 32 + y) * 32 + x])
            if maskedSpatial.contains((y / 8) * 4 + x / 8) {
              maskedMax = max(maskedMax, v)
            } else {
              visibleMax = max(visibleMax, v)
            }
          }
        }
      }
    }
    #expect(maskedMax == 0)
    #expect(visibleMax > 0)
  }

  @Test func badInputIsAClearError() throws {
    #expect { try SVFAPConfig.preset("svfap-huge") } throws: { "\($0)".contains("svfap-base") }
    let model = try FinetuneModel(try SVFAPConfig.preset("svfap-tiny"))
    let wrong = Tensor.zeros([1, 3, 8, 160, 160])
    #expect { try model(wrong) } throws: {
      "\($0)".contains("[1, 3, 8, 160, 160]") && "\($0)".contains("(B, 3, 16, 160, 160)")
    }
    var cfg = SVFAPConfig()
    cfg.dim = 100
    #expect { try FinetuneModel(cfg) } throws: { "\($0)".contains("dim 100") }
  }

  @Test func regressionHeadActivations() throws {
    var cfg = try SVFAPConfig.preset("svfap-tiny")
    (cfg.imgSize, cfg.patchSize, cfg.numClasses) = (32, 8, 5)
    var rng = SplitMix64(seed: 9)
    let clip = Tensor.randn([2, 3, 16, 32, 32], rng: &rng)
    for act in HeadActivation.allCases {
      cfg.headActivation = act
      let y = try FinetuneModel(cfg, seed: 3)(clip).toDoubles()
      switch act {
      case .sigmoid: #expect(y.allSatisfy { $0 > 0 && $0 < 1 })
      case .tanh: #expect(y.allSatisfy { $0 > -1 && $0 < 1 })
      case .relu: #expect(y.allSatisfy { $0 >= 0 })
      }
    }
  }
}
