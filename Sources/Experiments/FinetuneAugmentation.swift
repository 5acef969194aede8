import Media
import Tensor

/// The authors' fine-tuning augmentation of one clip, in their order: RandAugment (one draw of ops
/// for all frames), random resized crop back to the clip's size and a horizontal flip (one box and
/// one coin for all frames), then random erasing on the normalized clip.
public struct FinetuneAugmentation: Sendable {
  /// RandAugment (nil: off).
  public var randAugment: RandAugment?
  /// Random resized crop (area scale 0.08…1, aspect 3/4…4/3).
  public var resizedCrop = true
  /// Horizontal flip with probability ½.
  public var flip = true
  /// Probability of random erasing.
  public var eraseProbability = 0.25

  /// The authors' recipe (`--aa rand-m7-n4-mstd0.5-inc1 --reprob 0.25`, flip, resized crop).
  public static func authors() -> FinetuneAugmentation {
    FinetuneAugmentation(
      randAugment: (try? RandAugmentPolicy(RandAugmentPolicy.authors)).map(RandAugment.init))
  }

  /// No augmentation at all.
  public static let none = FinetuneAugmentation(
    randAugment: nil, resizedCrop: false, flip: false, eraseProbability: 0)

  /// A recipe with the given parts.
  public init(
    randAugment: RandAugment?, resizedCrop: Bool = true, flip: Bool = true,
    eraseProbability: Double = 0.25
  ) {
    (self.randAugment, self.resizedCrop, self.flip, self.eraseProbability) = (
      randAugment, resizedCrop, flip, eraseProbability
    )
  }

  /// Whether the recipe changes anything.
  public var isIdentity: Bool {
    randAugment == nil && !resizedCrop && !flip && eraseProbability == 0
  }

  /// One augmented copy of a normalized clip (1, 3, T, H, W).
  public func apply(_ clip: Tensor, rng: inout SplitMix64) throws -> Tensor {
    if isIdentity { return clip }
    var pixels = try PixelClip(normalized: clip)
    if let randAugment { RandAugment.apply(randAugment.draw(&rng), to: &pixels) }
    if resizedCrop {
      let box = SpatialAugment.resizedCropBox(width: pixels.width, height: pixels.height, rng: &rng)
      pixels = SpatialAugment.cropResize(pixels, box, width: pixels.width, height: pixels.height)
    }
    if flip && rng.nextDouble() < 0.5 { pixels = SpatialAugment.flipped(pixels) }
    var out = pixels.normalized()
    if eraseProbability > 0, rng.nextDouble() < eraseProbability,
      let box = SpatialAugment.erasingBox(width: pixels.width, height: pixels.height, rng: &rng)
    {
      out = SpatialAugment.erase(out, box, rng: &rng)
    }
    return out
  }

  /// The generator of sample `index` of a run whose data seed is `seed` (the same on any machine and
  /// after a resume).
  public static func generator(seed: UInt64, sample index: Int, copy: Int) -> SplitMix64 {
    var mix = SplitMix64(seed: seed ^ 0xA5A5_5A5A_0F0F_F0F0)
    mix.state &+=
      UInt64(truncatingIfNeeded: index) &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(truncatingIfNeeded: copy)
    return SplitMix64(seed: mix.next())
  }
}
