import Foundation
import Tensor

/// One RandAugment op with its argument, drawn once per clip and applied to every frame of it (the
/// authors apply each op to the list of a clip's frames with one magnitude and one sign). Pixel
/// values are PIL's 0…255; geometric ops sample bicubically (PIL's a = −0.5) and fill with grey 128
/// (timm's default fill), as the authors' `create_random_augment(..., interpolation="bicubic")`.
public enum AugmentOp: Sendable, Equatable {
  /// Per channel, the darkest value to 0 and the brightest to 255.
  case autoContrast
  /// Per channel histogram equalization (PIL's).
  case equalize
  /// 255 − v.
  case invert
  /// Counter-clockwise rotation about the centre, in degrees.
  case rotate(Double)
  /// Keep the `bits` high bits of each value.
  case posterize(Int)
  /// Values at or above the threshold become 255 − v.
  case solarize(Float)
  /// Values below 128 gain `add` (clipped at 255).
  case solarizeAdd(Float)
  /// Saturation: blend with the grey image (factor 0: grey, 1: unchanged).
  case color(Float)
  /// Contrast: blend with the mean grey level.
  case contrast(Float)
  /// Brightness: blend with black.
  case brightness(Float)
  /// Sharpness: blend with PIL's SMOOTH-filtered image.
  case sharpness(Float)
  /// x' = x + factor · y.
  case shearX(Double)
  /// y' = y + factor · x.
  case shearY(Double)
  /// Shift by a fraction of the width.
  case translateX(Double)
  /// Shift by a fraction of the height.
  case translateY(Double)
}

/// RandAugment as timm implements it, for clips: `layers` ops drawn with replacement from the
/// policy's set; each is applied with probability `probability`, at the magnitude plus Gaussian
/// noise (clipped to 0…magnitudeMax), with a random sign where the op has one.
public struct RandAugment: Sendable {
  /// The policy.
  public let policy: RandAugmentPolicy

  /// timm's op names of the policy's set (`_RAND_INCREASING_TRANSFORMS` or `_RAND_TRANSFORMS`).
  public var opNames: [String] {
    let middle =
      policy.increasing
      ? [
        "PosterizeIncreasing", "SolarizeIncreasing", "SolarizeAdd", "ColorIncreasing",
        "ContrastIncreasing",
        "BrightnessIncreasing", "SharpnessIncreasing",
      ]
      : ["Posterize", "Solarize", "SolarizeAdd", "Color", "Contrast", "Brightness", "Sharpness"]
    return ["AutoContrast", "Equalize", "Invert", "Rotate"] + middle + [
      "ShearX", "ShearY", "TranslateXRel", "TranslateYRel",
    ]
  }

  /// RandAugment with a policy.
  public init(_ policy: RandAugmentPolicy) { self.policy = policy }

  /// The ops of one clip (those that fire, with their arguments).
  public func draw(_ rng: inout SplitMix64) -> [AugmentOp] {
    let names = opNames
    var ops: [AugmentOp] = []
    for _ in 0..<policy.layers {
      let name = names[Int(rng.next() % UInt64(names.count))]
      guard policy.probability >= 1 || rng.nextDouble() <= policy.probability else { continue }
      var m = policy.magnitude
      if policy.magnitudeStd > 0 { m += policy.magnitudeStd * rng.nextNormal() }
      m = min(max(m, 0), policy.magnitudeMax)
      ops.append(Self.op(name, level: m / 10, rng: &rng))
    }
    return ops
  }

  /// timm's level-to-argument rule of each op (level = magnitude / 10).
  public static func op(_ name: String, level l: Double, rng: inout SplitMix64) -> AugmentOp {
    func signed(_ v: Double) -> Double { rng.nextDouble() > 0.5 ? -v : v }
    switch name {
    case "AutoContrast": return .autoContrast
    case "Equalize": return .equalize
    case "Invert": return .invert
    case "Rotate": return .rotate(signed(l * 30))
    case "Posterize": return .posterize(Int(l * 4))
    case "PosterizeIncreasing": return .posterize(4 - Int(l * 4))
    case "Solarize": return .solarize(Float(Int(l * 256)))
    case "SolarizeIncreasing": return .solarize(Float(256 - Int(l * 256)))
    case "SolarizeAdd": return .solarizeAdd(Float(Int(l * 110)))
    case "Color": return .color(Float(l * 1.8 + 0.1))
    case "Contrast": return .contrast(Float(l * 1.8 + 0.1))
    case "Brightness": return .brightness(Float(l * 1.8 + 0.1))
    case "Sharpness": return .sharpness(Float(l * 1.8 + 0.1))
    case "ColorIncreasing": return .color(Float(1 + signed(l * 0.9)))
    case "ContrastIncreasing": return .contrast(Float(1 + signed(l * 0.9)))
    case "BrightnessIncreasing": return .brightness(Float(1 + signed(l * 0.9)))
    case "SharpnessIncreasing": return .sharpness(Float(1 + signed(l * 0.9)))
    case "ShearX": return .shearX(signed(l * 0.3))
    case "ShearY": return .shearY(signed(l * 0.3))
    case "TranslateXRel": return .translateX(signed(l * 0.45))
    default: return .translateY(signed(l * 0.45))
    }
  }

  /// Applies `ops` in order to every frame of `clip`.
  public static func apply(_ ops: [AugmentOp], to clip: inout PixelClip) {
    for op in ops { apply(op, to: &clip) }
  }

  /// Applies one op to every frame.
  static func apply(_ op: AugmentOp, to clip: inout PixelClip) {
    let (w, h) = (Double(clip.width), Double(clip.height))
    switch op {
    case .autoContrast: PixelOps.perChannel(&clip, PixelOps.autoContrastTable)
    case .equalize: PixelOps.perChannel(&clip, PixelOps.equalizeTable)
    case .invert: PixelOps.map(&clip) { 255 - $0.rounded() }
    case .posterize(let bits):
      let mask = bits >= 8 ? 255 : (0xFF << (8 - max(bits, 0))) & 0xFF
      PixelOps.map(&clip) { Float(Int($0.rounded()) & mask) }
    case .solarize(let t):
      PixelOps.map(&clip) { $0.rounded() >= t ? 255 - $0.rounded() : $0.rounded() }
    case .solarizeAdd(let add):
      PixelOps.map(&clip) { $0.rounded() < 128 ? min($0.rounded() + add, 255) : $0.rounded() }
    case .color(let f): PixelOps.blend(&clip, factor: f, with: PixelOps.grey)
    case .contrast(let f): PixelOps.blend(&clip, factor: f, with: PixelOps.meanGrey)
    case .brightness(let f): PixelOps.blend(&clip, factor: f, with: { _, _, _, _ in })
    case .sharpness(let f): PixelOps.blend(&clip, factor: f, with: PixelOps.smooth)
    case .rotate(let degrees):
      let t = -degrees * .pi / 180, (cx, cy) = (w / 2, h / 2)
      let (a, b, d, e) = (cos(t), sin(t), -sin(t), cos(t))
      PixelOps.affine(&clip, [a, b, cx - a * cx - b * cy, d, e, cy - d * cx - e * cy])
    case .shearX(let s): PixelOps.affine(&clip, [1, s, 0, 0, 1, 0])
    case .shearY(let s): PixelOps.affine(&clip, [1, 0, 0, s, 1, 0])
    case .translateX(let p): PixelOps.affine(&clip, [1, 0, p * w, 0, 1, 0])
    case .translateY(let p): PixelOps.affine(&clip, [1, 0, 0, 0, 1, p * h])
    }
  }
}
