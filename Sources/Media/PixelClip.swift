import Tensor

/// A clip as pixel values in [0, 255], planar (3, T, H, W): where RandAugment, crops, flips and
/// erasing work, as the authors' pipeline works on PIL images before normalizing.
public struct PixelClip: Sendable, Equatable {
  /// Values, channel-major: ((c · T + f) · H + y) · W + x.
  public var values: [Float]
  /// Frames, height and width.
  public let frames: Int, height: Int, width: Int

  /// A blank clip of one value.
  public init(frames: Int, height: Int, width: Int, value: Float = 0) {
    (self.frames, self.height, self.width) = (frames, height, width)
    values = [Float](repeating: value, count: 3 * frames * height * width)
  }

  /// The pixels of a normalized clip (1, 3, T, H, W).
  public init(normalized clip: Tensor) throws {
    guard clip.rank == 5, clip.shape[0] == 1, clip.shape[1] == 3, clip.dtype == .float32 else {
      throw MediaError("clip", "expected one float32 clip (1, 3, T, H, W), got \(clip.shape)")
    }
    self.init(frames: clip.shape[2], height: clip.shape[3], width: clip.shape[4])
    let plane = frames * height * width, p = clip.pointer(Float.self)
    for c in 0..<3 {
      let (mean, std) = (imageNetMean[c], imageNetStd[c])
      for i in 0..<plane {
        values[c * plane + i] = min(max((p[c * plane + i] * std + mean) * 255, 0), 255)
      }
    }
  }

  /// The clip ImageNet-normalized again: (1, 3, T, H, W).
  public func normalized() -> Tensor {
    let out = Tensor.zeros([1, 3, frames, height, width])
    let plane = frames * height * width, p = out.pointer(Float.self)
    for c in 0..<3 {
      let (mean, inv) = (imageNetMean[c], 1 / imageNetStd[c])
      for i in 0..<plane { p[c * plane + i] = (values[c * plane + i] / 255 - mean) * inv }
    }
    return out
  }

  /// The offset of pixel (x, y) of frame f in channel c.
  @inline(__always) func index(_ c: Int, _ f: Int, _ y: Int, _ x: Int) -> Int {
    ((c * frames + f) * height + y) * width + x
  }

  /// Applies `body` to each frame's three channel planes (offsets of channel 0, 1, 2).
  mutating func eachFrame(_ body: (inout [Float], [Int]) -> Void) {
    for f in 0..<frames { body(&values, (0..<3).map { index($0, f, 0, 0) }) }
  }
}
