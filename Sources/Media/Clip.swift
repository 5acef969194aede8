import Foundation
import Tensor

/// ImageNet channel means (pixels in [0, 1]).
public let imageNetMean: [Float] = [0.485, 0.456, 0.406]
/// ImageNet channel standard deviations.
public let imageNetStd: [Float] = [0.229, 0.224, 0.225]

/// How a clip is taken from a video.
public struct ClipSpec: Sendable, Equatable {
  /// How frames are cropped to the square input.
  public enum Crop: String, Sendable, CaseIterable {
    /// Resize the short side to `size`, then take the central square.
    case center
    /// Resize the whole frame to size × size (aspect ratio not kept).
    case none
    /// Detect the main face (`ClipSpec.detector`), smooth its box over time, crop a square around
    /// it.
    case face
  }
  /// Frames per clip.
  public var frames = 16
  /// Temporal stride (every `stride`-th frame).
  public var stride = 4
  /// Output height and width.
  public var size = 160
  /// Crop mode.
  public var crop = Crop.center
  /// With `crop = .face`: use the center crop when no face is found (instead of an error).
  public var faceFallback = false
  /// With `crop = .center`: where the square sits along the frame's long side (0: left or top,
  /// ½: the centre, 1: right or bottom) — the test-time spatial crops.
  public var cropPosition = 0.5
  /// With `crop = .face`: also check the crop (faces found, shot cuts, the box on the face) into
  /// `Clip.faceReport` (runs the detector on the sampled frames even when a face track is cached).
  public var faceReport = false
  /// With `crop = .face`: which detector finds the faces.
  public var detector = FaceDetectors.Kind.haar
  /// With `crop = .face`: which face a video's track follows when several are tracked.
  public var face = FaceChoice.largest
  /// With `crop = .face`: warp each frame so its five landmarks sit on a canonical template
  /// (needs a detector with landmarks: MTCNN), instead of the box crop the authors' data use.
  public var align = false
  /// The SVFAP default: 16 frames, stride 4, 160 × 160, center crop.
  public init() {}
}

/// A clip ready for a model: normalized pixels (1, 3, T, H, W) and where they came from.
public struct Clip {
  /// (1, 3, T, H, W), ImageNet-normalized.
  public let tensor: Tensor
  /// The video frame index of each clip frame.
  public let frameIndices: [Int]
  /// The crop box in the resized frame: x, y, width, height.
  public let cropBox: [Int]
  /// The source.
  public let info: VideoInfo
  /// How it was cropped.
  public var crop = ClipSpec.Crop.center
  /// Per frame, the crop box in the video's own pixels (x, y, width, height).
  public var sourceBoxes: [[Double]] = []
  /// What a face crop found out about itself, when asked for (`ClipSpec.faceReport`).
  public var faceReport: FaceCropReport? = nil
  /// The face detector that cropped it ("haar", "mtcnn"; nil for other crops).
  public var detector: String? = nil
  /// When the clip is a still set in motion (`animated`): how, in words.
  public var animation: String? = nil
  /// Whether each frame was warped so its five landmarks sit on the template (`align: true`).
  public var aligned = false
  /// The zoom `animated` moves about by default (> 1 hides the repeated edges).
  public static let defaultAnimationZoom = 1.1

  /// How it was cropped, in words: "face", "aligned face", "center", "none".
  public var cropName: String { (aligned ? "aligned " : "") + crop.rawValue }

  /// A still set in motion: frame `from` of this clip repeated `frames` times, each drawn through
  /// its own step of a smooth random camera path (`ClipMotion.path`) — turn up to `strength` ×
  /// 10°, zoom `zoom` ± `strength` × 0.08, shift up to `strength` × 6 % — so the result is a moving
  /// shot of the still; the crop box stays that of the frame.
  public func animated(
    from: Int, frames: Int, strength: Double, zoom: Double = defaultAnimationZoom, seed: UInt64
  ) throws -> Clip {
    guard (0..<tensor.shape[2]).contains(from) else {
      throw MediaError(info.path, "frame \(from) of a clip of \(tensor.shape[2]) frames")
    }
    let still = try PixelClip(normalized: try tensor.slice(axis: 2, start: from, count: 1))
    var rng = SplitMix64(seed: seed)
    let range = ClipMotion.Range(
      angle: strength * 10 * Double.pi / 180, zoom: strength * 0.08, shift: strength * 0.06,
      baseZoom: zoom)
    let path = ClipMotion.path(
      frames: frames, width: still.width, height: still.height, range: range, rng: &rng)
    var out = Clip(
      tensor: ClipMotion.warp(still, path).normalized(),
      frameIndices: Array(
        repeating: frameIndices.indices.contains(from) ? frameIndices[from] : 0, count: frames),
      cropBox: cropBox, info: info, crop: crop,
      sourceBoxes: sourceBoxes.indices.contains(from)
        ? Array(repeating: sourceBoxes[from], count: frames) : [])
    out.detector = detector
    out.aligned = aligned
    out.animation =
      "animated still (strength \(strength)\(zoom == Self.defaultAnimationZoom ? "" : ", zoom \(zoom)"), seed \(seed))"
    return out
  }
}

/// Frame indices of clips. Short videos repeat their last frame (the authors' loaders clamp the
/// index the same way), so a clip always has `frames` frames.
public enum ClipSampler {
  /// `frames` indices from `start` every `stride`, clamped to the last frame.
  public static func indices(start: Int, frames: Int, stride: Int, frameCount: Int) -> [Int] {
    (0..<frames).map { min(max(start, 0) + $0 * stride, max(frameCount - 1, 0)) }
  }

  /// The frame indices of a clip of `spec` from `start` (nil: the clip centred in the video).
  public static func indices(of spec: ClipSpec, start: Int?, frameCount: Int) -> [Int] {
    let s =
      start ?? uniformStarts(k: 1, frames: spec.frames, stride: spec.stride, frameCount: frameCount)
      .first ?? 0
    return indices(
      start: s, frames: spec.frames, stride: spec.stride, frameCount: max(frameCount, 1))
  }

  /// Start frames of `k` clips spread uniformly over the video (test-time averaging; the paper uses
  /// 2).
  public static func uniformStarts(k: Int, frames: Int, stride: Int, frameCount: Int) -> [Int] {
    let span = (frames - 1) * stride + 1
    let room = max(frameCount - span, 0)
    guard k > 1 else { return [room / 2] }
    return (0..<k).map { Int((Double(room) * Double($0) / Double(k - 1)).rounded()) }
  }

  /// A random start for training.
  public static func randomStart(frames: Int, stride: Int, frameCount: Int, rng: inout SplitMix64)
    -> Int
  {
    let room = max(frameCount - ((frames - 1) * stride + 1), 0)
    return room == 0 ? 0 : Int(rng.next() % UInt64(room + 1))
  }
}

extension VideoReader {
  /// Reads a clip starting at `start` (nil: the middle of the video), cropped and normalized.
  public func clip(_ spec: ClipSpec, start: Int? = nil) throws -> Clip {
    guard spec.frames >= 1, spec.stride >= 1, spec.size >= 8 else {
      throw MediaError(
        info.path, "bad clip spec: frames \(spec.frames), stride \(spec.stride), size \(spec.size)")
    }
    let idx = ClipSampler.indices(of: spec, start: start, frameCount: info.frameCount)
    let (w, h, box): (Int, Int, [Int])
    switch spec.crop {
    case .face:
      let detector = try FaceDetectors.finder(spec.detector)
      // Videos read their boxes (and, with MTCNN, landmarks for aligned crops) from the
      // face-track cache; a folder of frames detects per clip.
      let track =
        frameFiles == nil
        ? try FaceTrackCache.shared.track(for: self, detector: detector, choice: spec.face) : nil
      return try faceClip(
        spec, start: start, detector: detector, fallbackToCenter: spec.faceFallback, track: track
      ).clip
    case .none: (w, h, box) = (spec.size, spec.size, [0, 0, spec.size, spec.size])
    case .center:
      let scale = Double(spec.size) / Double(min(info.width, info.height))
      let sw = max(spec.size, Int((Double(info.width) * scale).rounded())),
        sh = max(spec.size, Int((Double(info.height) * scale).rounded()))
      let p = min(max(spec.cropPosition, 0), 1)
      let (x, y) = (Int(Double(sw - spec.size) * p), Int(Double(sh - spec.size) * p))
      (w, h, box) = (sw, sh, [x, y, spec.size, spec.size])
    }
    let rgb = try frames(idx, width: w, height: h)
    let (sx, sy) = (Double(info.width) / Double(w), Double(info.height) / Double(h))
    let source = [
      Double(box[0]) * sx, Double(box[1]) * sy, Double(box[2]) * sx, Double(box[3]) * sy,
    ]
    return Clip(
      tensor: Self.normalize(rgb, width: w, box: box), frameIndices: idx, cropBox: box, info: info,
      crop: spec.crop, sourceBoxes: Array(repeating: source, count: idx.count))
  }

  /// RGB24 frames -> (1, 3, T, size, size) normalized, taking the crop box.
  static func normalize(_ frames: [[UInt8]], width: Int, box: [Int]) -> Tensor {
    let t = frames.count, (x0, y0, bw, bh) = (box[0], box[1], box[2], box[3])
    let out = Tensor.zeros([1, 3, t, bh, bw])
    let p = out.pointer(Float.self)
    for (f, rgb) in frames.enumerated() {
      rgb.withUnsafeBufferPointer { src in
        for c in 0..<3 {
          let mean = imageNetMean[c], inv = 1 / imageNetStd[c]
          let plane = p + ((c * t + f) * bh * bw)
          for y in 0..<bh {
            let row = ((y0 + y) * width + x0) * 3 + c
            for x in 0..<bw { plane[y * bw + x] = (Float(src[row + x * 3]) / 255 - mean) * inv }
          }
        }
      }
    }
    return out
  }
}

/// Normalized pixels back to [0, 1] (for display).
public func unnormalize(_ v: Float, channel c: Int) -> Float {
  min(max(v * imageNetStd[c] + imageNetMean[c], 0), 1)
}
