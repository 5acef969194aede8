import Experiments
import Media
import Script

/// The fine-tuning data options: the authors' augmentation (RandAugment, random resized crop, flip,
/// random erasing) and repeated sampling.
struct AugmentOptions {
  /// Their declarations.
  static let params: [Param] = [
    .option(
      "augment", .string, "RandAugment policy in timm's grammar (\"\" = off; the authors')",
      default: .string(RandAugmentPolicy.authors)),
    .option(
      "resized_crop", .bool,
      "random resized crop (area 0.08…1, aspect 3/4…4/3) back to the clip size",
      default: .bool(true)),
    .option("flip", .bool, "horizontal flip with probability 0.5", default: .bool(true)),
    .option(
      "erase", .number, "probability of random erasing (one box, all frames)",
      default: .number(0.25)
    )
    .within(0...1),
    .option(
      "repeats", .integer, "augmented clips per drawn video (the authors' num_sample)",
      default: .number(2)
    ).within(1...16),
  ]

  /// The augmentation of each clip.
  let augmentation: FinetuneAugmentation
  /// Clips per drawn video.
  let repeats: Int

  /// Reads the options of a call; a policy that does not parse is a located error naming the field.
  init(_ a: Arguments) throws {
    let text = try a.string("augment")
    var randAugment: RandAugment?
    if !text.isEmpty {
      do { randAugment = RandAugment(try RandAugmentPolicy(text)) } catch let e
        as RandAugmentPolicy.PolicyError
      {
        throw a.error("\(e)")
      }
    }
    augmentation = FinetuneAugmentation(
      randAugment: randAugment, resizedCrop: try a.bool("resized_crop"), flip: try a.bool("flip"),
      eraseProbability: try a.number("erase"))
    repeats = try a.int("repeats")
  }
}
