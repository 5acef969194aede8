import Media
import Tensor

/// Pretraining augmentation of one clip, drawn afresh for every sample of every step:
/// - `authors`: VideoMAE's `GroupMultiScaleCrop` (the authors' pretraining transform), resized
///   back to the clip's size;
/// - `strong`: that crop, a horizontal flip (½), a slow camera move (turn ≤ 6°, zoom ±6 %, shift
///   ≤ 4 %; ½), colour (brightness and contrast 0.7…1.3, saturation 0.5…1.5; 0.8), grey (0.1),
///   Gaussian blur (σ 0.3…1.5 px; 0.3) and sensor noise (σ 2…8 levels; 0.3);
/// - `faces`: for face crops, whose faces sit where the test clips' do: no multi-scale crop, a
///   flip (½), a slight camera move (turn ≤ 3°, zoom ±3 %, shift ≤ 2 %; ½), colour (0.8), grey
///   (0.1), light blur (σ 0.3…1 px; 0.2) and light noise (σ 1…3 levels; 0.1).
public enum PretrainAugmentation: String, Sendable, CaseIterable {
  /// No augmentation: the clips as they are.
  case none
  /// The authors' multi-scale crop.
  case authors
  /// The multi-scale crop plus flip, motion, colour, blur and noise.
  case strong
  /// Photometric variety and slight motion, the face kept where face crops put it.
  case faces

  /// One augmented copy of a normalized clip (1, 3, T, H, W).
  public func apply(_ clip: Tensor, rng: inout SplitMix64) throws -> Tensor {
    if self == .none { return clip }
    var pixels = try PixelClip(normalized: clip)
    let (w, h) = (pixels.width, pixels.height)
    if self != .faces {
      let box = PhotometricJitter.multiScaleCropBox(
        width: w, height: h, output: min(w, h), rng: &rng)
      pixels = SpatialAugment.cropResize(pixels, box, width: w, height: h)
    }
    guard self != .authors else { return pixels.normalized() }
    let light = self == .faces
    func chance(_ p: Double) -> Bool { rng.nextDouble() < p }
    func uniform(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * rng.nextDouble() }
    if chance(0.5) { pixels = SpatialAugment.flipped(pixels) }
    if chance(0.5) {
      let range =
        light
        ? ClipMotion.Range(angle: 3 * Double.pi / 180, zoom: 0.03, shift: 0.02, baseZoom: 1.03)
        : ClipMotion.Range(angle: 6 * Double.pi / 180, zoom: 0.06, shift: 0.04, baseZoom: 1.06)
      pixels = ClipMotion.warp(
        pixels, ClipMotion.path(frames: pixels.frames, width: w, height: h, range: range, rng: &rng)
      )
    }
    if chance(0.8) {  // PIL's ImageEnhance blends, as RandAugment's ops
      RandAugment.apply(
        [
          .brightness(Float(uniform(0.7, 1.3))), .contrast(Float(uniform(0.7, 1.3))),
          .color(Float(uniform(0.5, 1.5))),
        ], to: &pixels)
    }
    if chance(0.1) { RandAugment.apply([.color(0)], to: &pixels) }  // grey
    if chance(light ? 0.2 : 0.3) {
      PhotometricJitter.blur(&pixels, sigma: light ? uniform(0.3, 1) : uniform(0.3, 1.5))
    }
    if chance(light ? 0.1 : 0.3) {
      PhotometricJitter.noise(&pixels, sigma: light ? uniform(1, 3) : uniform(2, 8), rng: &rng)
    }
    return pixels.normalized()
  }

  /// What the recipe does, in words (for the run's announcement).
  public var description: String {
    switch self {
    case .none: return "none"
    case .authors: return "the authors' multi-scale crop"
    case .strong: return "multi-scale crop, flip, camera motion, colour, grey, blur and noise"
    case .faces: return "flip, slight camera motion, colour, grey, light blur and noise (no crop)"
    }
  }
}
