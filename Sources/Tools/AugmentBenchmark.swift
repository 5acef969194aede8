import Experiments
import Media
import Tensor

/// `svfap bench augment`: milliseconds per 16 × 160 × 160 clip of each part of the authors'
/// fine-tuning augmentation (on one thread, where the training loop runs it), beside decoding.
public enum AugmentBenchmark {
  /// Figures for the clip of `video` (its centre, center crop), median of `runs` runs.
  public static func run(video: String, runs: Int) throws -> [BenchFigure] {
    let clip = try VideoReader(path: video).clip(ClipSpec()).tensor
    let pixels = try PixelClip(normalized: clip)
    let policy = RandAugment(try RandAugmentPolicy(RandAugmentPolicy.authors))
    var rng = SplitMix64(seed: 1)
    func ms(_ name: String, _ body: () throws -> Void) rethrows -> BenchFigure {
      BenchFigure(name: name, value: try medianSeconds(runs: runs, body) * 1000, unit: "ms/clip")
    }
    let ops = policy.opNames.map { name in
      ms("op \(name) (m 7)") {
        var p = pixels
        RandAugment.apply([RandAugment.op(name, level: 0.7, rng: &rng)], to: &p)
      }
    }
    return ops + [
      try ms("decode + center crop") { _ = try VideoReader(path: video).clip(ClipSpec()) },
      try ms("to pixels + normalize") { _ = try PixelClip(normalized: clip).normalized() },
      ms("randaugment rand-m7-n4-mstd0.5-inc1") {
        var p = pixels
        RandAugment.apply(policy.draw(&rng), to: &p)
      },
      ms("resized crop + flip") {
        let box = SpatialAugment.resizedCropBox(width: 160, height: 160, rng: &rng)
        _ = SpatialAugment.flipped(SpatialAugment.cropResize(pixels, box, width: 160, height: 160))
      },
      ms("random erasing") {
        if let box = SpatialAugment.erasingBox(width: 160, height: 160, rng: &rng) {
          _ = SpatialAugment.erase(clip, box, rng: &rng)
        }
      },
      try ms("whole recipe") { _ = try FinetuneAugmentation.authors().apply(clip, rng: &rng) },
    ]
  }
}
