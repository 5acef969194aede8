import Foundation
import Testing

@testable import Media
@testable import Tensor

/// The pixel operations behind pretraining augmentation and animated stills, on real frames
/// (examples/media/single_face.mp4 at 64 × 64): each does what it says and nothing else.
@Suite struct PretrainVarietyTests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

  /// A real clip as pixels.
  func realClip(frames: Int = 4, size: Int = 64) throws -> PixelClip {
    var spec = ClipSpec()
    (spec.frames, spec.stride, spec.size) = (frames, 2, size)
    let path = Self.root.appendingPathComponent("examples/media/single_face.mp4").path
    return try PixelClip(normalized: try VideoReader(path: path).clip(spec).tensor)
  }

  func maxDifference(_ a: PixelClip, _ b: PixelClip) -> Float {
    zip(a.values, b.values).map { abs($0 - $1) }.max() ?? 0
  }

  @Test func theIdentityPathLeavesTheClipAndAShiftMovesItByWholePixels() throws {
    let clip = try realClip()
    let identity = (0..<clip.frames).map { _ in
      ClipMotion.Affine(
        width: clip.width, height: clip.height, angle: 0, zoom: 1, dx: 0, dy: 0)
    }
    #expect(maxDifference(ClipMotion.warp(clip, identity), clip) < 1e-3)
    // A shift of 4 pixels right: output x samples source x − 4.
    let shift = ClipMotion.Affine(
      width: clip.width, height: clip.height, angle: 0, zoom: 1, dx: 4.0 / Double(clip.width),
      dy: 0)
    let moved = ClipMotion.warp(clip, Array(repeating: shift, count: clip.frames))
    var worst: Float = 0
    for c in 0..<3 {
      for y in 0..<clip.height {
        for x in 4..<clip.width {
          worst = max(
            worst,
            abs(moved.values[moved.index(c, 1, y, x)] - clip.values[clip.index(c, 1, y, x - 4)]))
        }
      }
    }
    #expect(worst < 1e-3)
    // A quarter turn about the centre: the top-left corner shows what was at the bottom-left.
    let turn = ClipMotion.Affine(
      width: clip.width, height: clip.height, angle: Double.pi / 2, zoom: 1, dx: 0, dy: 0)
    let turned = ClipMotion.warp(clip, [turn])
    let n = clip.width - 1
    #expect(
      abs(turned.values[turned.index(0, 0, 0, 0)] - clip.values[clip.index(0, 0, n, 0)]) < 1e-2
        || abs(turned.values[turned.index(0, 0, 0, 0)] - clip.values[clip.index(0, 0, 0, n)])
          < 1e-2
    )
  }

  @Test func aStillSetInMotionChangesFromFrameToFrameAndRepeatsForItsSeed() throws {
    let path = Self.root.appendingPathComponent("examples/media/single_face.mp4").path
    var spec = ClipSpec()
    (spec.frames, spec.size) = (1, 64)
    let still = try VideoReader(path: path).clip(spec)
    let a = try still.animated(from: 0, frames: 8, strength: 1, seed: 5)
    let b = try still.animated(from: 0, frames: 8, strength: 1, seed: 5)
    let c = try still.animated(from: 0, frames: 8, strength: 1, seed: 6)
    #expect(a.tensor.shape == [1, 3, 8, 64, 64] && a.animation != nil)
    #expect(try a.tensor.toFloats() == b.tensor.toFloats())
    #expect(try a.tensor.toFloats() != c.tensor.toFloats())
    let pixels = try PixelClip(normalized: a.tensor)
    let first = pixels.values.indices.filter { (($0 / (64 * 64)) % 8) == 0 }
    let last = pixels.values.indices.filter { (($0 / (64 * 64)) % 8) == 7 }
    let moved = zip(first, last).map { abs(pixels.values[$0] - pixels.values[$1]) }.max() ?? 0
    #expect(moved > 20)  // the camera moved: some pixel changed by more than 20 levels
    #expect(throws: MediaError.self) {
      try still.animated(from: 1, frames: 8, strength: 1, seed: 5)
    }
    // Zoom 1 with no motion gives the still back (aligned faces stay on the template); the default
    // zoom, 1.1, shows less of it.
    let held = try still.animated(from: 0, frames: 2, strength: 0, zoom: 1, seed: 5)
    let original = try still.tensor.toFloats()
    let frames = try held.tensor.toFloats()
    let plane = 64 * 64
    var worst: Float = 0
    for c in 0..<3 {
      for i in 0..<plane {
        worst = max(worst, abs(frames[(c * 2 + 1) * plane + i] - original[c * plane + i]))
      }
    }
    #expect(worst < 1e-2, "zoom 1, strength 0 moved a pixel by \(worst)")
    let zoomed = try still.animated(from: 0, frames: 2, strength: 0, seed: 5).tensor.toFloats()
    #expect(zip(zoomed.prefix(plane), original.prefix(plane)).contains { abs($0 - $1) > 0.1 })
  }

  @Test func colourBlurNoiseAndTheMultiScaleCropDoWhatTheySay() throws {
    let clip = try realClip()
    var grey = clip
    RandAugment.apply([.color(0)], to: &grey)
    let plane = clip.frames * clip.height * clip.width
    #expect((0..<plane).allSatisfy { abs(grey.values[$0] - grey.values[plane + $0]) < 1e-3 })
    var same = clip
    RandAugment.apply([.brightness(1), .contrast(1), .color(1)], to: &same)
    #expect(maxDifference(same, clip) < 1e-3)
    // A blur keeps the mean (up to the repeated edges) and lowers the variation between pixels.
    var blurred = clip
    PhotometricJitter.blur(&blurred, sigma: 1.5)
    func roughness(_ c: PixelClip) -> Float {
      (1..<c.values.count).reduce(Float(0)) { $0 + abs(c.values[$1] - c.values[$1 - 1]) }
    }
    #expect(roughness(blurred) < 0.8 * roughness(clip))
    let mean = { (c: PixelClip) in c.values.reduce(0, +) / Float(c.values.count) }
    #expect(abs(mean(blurred) - mean(clip)) < 1)
    var rng = SplitMix64(seed: 1)
    var noisy = clip
    PhotometricJitter.noise(&noisy, sigma: 4, rng: &rng)
    let deviations = zip(noisy.values, clip.values).map { Double($0 - $1) }
      .filter { _ in true }
    let rms = (deviations.map { $0 * $0 }.reduce(0, +) / Double(deviations.count)).squareRoot()
    #expect(rms > 3 && rms < 4.5)  // clamping at 0 and 255 only lowers it
    // VideoMAE's crop sizes on a 160-pixel clip: 160, 140, 120, 105, at most one scale apart.
    let sizes = Set([160, 140, 120, 105])
    for seed in 0..<200 {
      var g = SplitMix64(seed: UInt64(seed))
      let box = PhotometricJitter.multiScaleCropBox(width: 160, height: 160, output: 160, rng: &g)
      #expect(sizes.contains(box.width) && sizes.contains(box.height))
      #expect(box.x >= 0 && box.y >= 0 && box.x + box.width <= 160 && box.y + box.height <= 160)
    }
  }

  @Test func aStillImageReadsAgainAfterItsFirstRead() throws {
    let path = Self.root.appendingPathComponent("examples/media/face_frames/00005.jpg").path
    let reader = try VideoReader(path: path)
    let first = try reader.frames([0], width: 32, height: 32)
    let second = try reader.frames([0], width: 32, height: 32)  // was: "no frame could be decoded"
    #expect(first == second && first.count == 1)
  }
}
