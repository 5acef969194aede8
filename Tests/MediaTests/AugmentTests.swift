import Foundation
import Testing

@testable import Media
@testable import Tensor

/// The authors' fine-tuning augmentations on real frames (examples/media/single_face.mp4, 8 frames
/// at 64 × 64): each op does what it says, and a clip's frames all get the same ops.
@Suite struct AugmentTests {
  static let video = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("examples/media/single_face.mp4").path

  /// A real clip as pixels.
  func realClip(frames: Int = 8, size: Int = 64) throws -> PixelClip {
    var spec = ClipSpec()
    (spec.frames, spec.stride, spec.size) = (frames, 2, size)
    return try PixelClip(normalized: try VideoReader(path: Self.video).clip(spec).tensor)
  }

  /// Frame f of a clip as one-frame clip.
  func frame(_ c: PixelClip, _ f: Int) -> PixelClip {
    var out = PixelClip(frames: 1, height: c.height, width: c.width)
    for ch in 0..<3 {
      for y in 0..<c.height {
        for x in 0..<c.width { out.values[out.index(ch, 0, y, x)] = c.values[c.index(ch, f, y, x)] }
      }
    }
    return out
  }

  @Test func thePolicyGrammarOfTheAuthors() throws {
    let p = try RandAugmentPolicy(RandAugmentPolicy.authors)
    #expect(p.layers == 4 && p.magnitude == 7 && p.magnitudeStd == 0.5 && p.increasing)
    #expect(p.probability == 0.5 && p.magnitudeMax == 10)
    #expect(
      RandAugment(p).opNames.count == 15 && RandAugment(p).opNames.contains("PosterizeIncreasing"))
    let bad: [(String, String)] = [
      ("augmix-m5", "field 1 'augmix'"), ("rand-m7-x4", "field 3 'x4': unknown key 'x'"),
      ("rand-mX", "field 2 'mX'"), ("rand-n4.5", "field 2 'n4.5': n must be a whole number"),
      ("rand-m7--n4", "field 3 ''"), ("rand-p2", "field 2 'p2': p must be in 0.0…1.0"),
    ]
    for (text, message) in bad {
      #expect { try RandAugmentPolicy(text) } throws: { "\($0)".contains(message) }
    }
  }

  @Test func theSameOpsHitEveryFrameOfAClip() throws {
    let clip = try realClip()
    var policy = try RandAugmentPolicy("rand-m9-n4-inc1")
    policy.probability = 1
    var rng = SplitMix64(seed: 3)
    for _ in 0..<6 {
      let ops = RandAugment(policy).draw(&rng)
      #expect(ops.count == 4)
      var whole = clip
      RandAugment.apply(ops, to: &whole)
      // Each frame of the augmented clip is that frame augmented alone with the same ops.
      for f in [0, 3, 7] {
        var alone = frame(clip, f)
        RandAugment.apply(ops, to: &alone)
        #expect(frame(whole, f) == alone, "\(ops) differ on frame \(f)")
      }
      #expect(
        whole != clip || ops.allSatisfy { if case .posterize(let b) = $0 { b >= 8 } else { false } }
      )
    }
  }

  @Test func eachOpDoesWhatItSays() throws {
    let clip = frame(try realClip(), 0)
    func applied(_ op: AugmentOp) -> PixelClip {
      var c = clip
      RandAugment.apply([op], to: &c)
      return c
    }
    let rounded = clip.values.map { $0.rounded() }
    #expect(applied(.invert).values == rounded.map { 255 - $0 })
    #expect(applied(.posterize(8)).values == rounded)
    #expect(Set(applied(.posterize(2)).values).isSubset(of: [0, 64, 128, 192]))
    #expect(applied(.solarize(256)).values == rounded)
    #expect(applied(.brightness(0)).values.allSatisfy { $0 == 0 })
    #expect(applied(.brightness(1)).values == clip.values)
    let grey = applied(.color(0)), n = clip.height * clip.width
    #expect(
      (0..<n).allSatisfy {
        grey.values[$0] == grey.values[n + $0] && grey.values[$0] == grey.values[2 * n + $0]
      })
    let stretched = applied(.autoContrast)
    for c in 0..<3 {
      let plane = stretched.values[(c * n)..<((c + 1) * n)]
      #expect(plane.min() == 0 && plane.max() == 255)
    }
    // Rotation and shifts by zero resample at the pixel centres: the frame itself.
    for op in [AugmentOp.rotate(0), .translateX(0), .shearY(0)] {
      #expect(zip(applied(op).values, clip.values).allSatisfy { abs($0 - $1) < 1e-3 })
    }
    // A shift by a quarter of the width moves content right and fills the left with grey.
    let shifted = applied(.translateX(-0.25)), w = clip.width
    #expect((0..<(w / 4)).allSatisfy { shifted.values[$0] == 128 })
    #expect(abs(shifted.values[w / 2] - clip.values[w / 4]) < 1e-3)
  }

  @Test func aFlipIsAFlipAndCropsStayInside() throws {
    let clip = try realClip()
    let flipped = SpatialAugment.flipped(clip)
    #expect(SpatialAugment.flipped(flipped) == clip)
    for (f, y, x) in [(0, 5, 3), (7, 40, 60), (3, 63, 0)] {
      #expect(
        flipped.values[flipped.index(1, f, y, x)]
          == clip.values[clip.index(1, f, y, clip.width - 1 - x)])
    }
    var rng = SplitMix64(seed: 11)
    for _ in 0..<200 {
      let b = SpatialAugment.resizedCropBox(width: 64, height: 64, rng: &rng)
      #expect(b.x >= 0 && b.y >= 0 && b.x + b.width <= 64 && b.y + b.height <= 64)
      let area = Double(b.width * b.height) / 4096
      #expect(area >= 0.07 && area <= 1.0)
    }
    let whole = SpatialAugment.Box(x: 0, y: 0, width: 64, height: 64)
    #expect(
      zip(SpatialAugment.cropResize(clip, whole, width: 64, height: 64).values, clip.values)
        .allSatisfy { abs($0 - $1) < 1e-3 })
    // A crop of the right half, resized, starts where the half starts.
    let half = SpatialAugment.cropResize(
      clip, SpatialAugment.Box(x: 32, y: 0, width: 32, height: 64), width: 32, height: 64)
    #expect(
      abs(half.values[half.index(0, 0, 10, 0)] - clip.values[clip.index(0, 0, 10, 32)]) < 1e-3)
  }

  @Test func erasingCoversTheDrawnAreaInEveryFrame() throws {
    let clip = try realClip().normalized()
    var rng = SplitMix64(seed: 5)
    for _ in 0..<20 {
      guard let box = SpatialAugment.erasingBox(width: 64, height: 64, rng: &rng) else {
        Issue.record("no box")
        continue
      }
      let area = Double(box.width * box.height) / 4096
      #expect(area > 0.015 && area < 0.36)
      let erased = SpatialAugment.erase(clip, box, rng: &rng)
      let (a, e) = (clip.toFloats(), erased.toFloats())
      let (t, h, w) = (8, 64, 64)
      func at(_ v: [Float], _ c: Int, _ f: Int, _ y: Int, _ x: Int) -> Float {
        v[((c * t + f) * h + y) * w + x]
      }
      var changed = 0
      for c in 0..<3 {
        for y in 0..<h {
          for x in 0..<w {
            let inside =
              (box.x..<(box.x + box.width)).contains(x)
              && (box.y..<(box.y + box.height)).contains(y)
            for f in 0..<t {
              if inside {
                #expect(at(e, c, f, y, x) == at(e, c, 0, y, x))
                if at(e, c, f, y, x) != at(a, c, f, y, x) { changed += 1 }
              } else {
                #expect(at(e, c, f, y, x) == at(a, c, f, y, x))
              }
            }
          }
        }
      }
      #expect(changed == 3 * t * box.width * box.height)
    }
  }
}
