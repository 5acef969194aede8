import Dispatch
import Foundation
import StopRequests
import Tensor

/// The main face's box on every frame of a video, computed once: the Haar cascade runs on every
/// `every`-th frame at the detector's resolution, boxes are interpolated linearly between
/// detections and held before the first and after the last. Face crops of any clip of the video
/// then read their boxes from here instead of detecting again (`FaceTrackCache` keeps it on disk).
public struct FaceTrack: Codable, Sendable, Equatable {
  /// Frames of the video.
  public let frameCount: Int
  /// The detector's frame size (the boxes' pixels).
  public let width: Int, height: Int
  /// Every how many frames the detector ran.
  public let every: Int
  /// Per frame, the box (x, y, w, h) in detector pixels; empty when no scanned frame had a face.
  public let boxes: [[Double]]
  /// Per frame, whether its box lies between two detections (or on one) rather than held beyond
  /// the first or last.
  public let covered: [Bool]

  /// Whether any scanned frame had a face.
  public var hasFace: Bool { !boxes.isEmpty }
}

extension VideoReader {
  /// The face track of this video, the detector running on every `every`-th frame (decoded in
  /// chunks, detected on both cores).
  public func faceTrack(detector: any FaceFinder, every: Int = 8) throws -> FaceTrack {
    let (w, h) = trackSize
    let count = max(info.frameCount, 1), step = max(every, 1)
    let scanned = Array(stride(from: 0, to: count, by: step))
    var hits: [(frame: Int, box: [Double])] = []
    for chunk in stride(from: 0, to: scanned.count, by: 64) {
      try StopRequest.check("face tracking")
      let indices = Array(scanned[chunk..<min(chunk + 64, scanned.count)])
      let faces = try Self.detect(try frames(indices, width: w, height: h), w, h, detector)
      for (i, f) in zip(indices, faces) {
        if let f { hits.append((i, [f.x, f.y, f.width, f.height])) }
      }
    }
    guard let first = hits.first, let last = hits.last else {
      return FaceTrack(
        frameCount: count, width: w, height: h, every: step, boxes: [], covered: [])
    }
    var boxes: [[Double]] = [], covered: [Bool] = []
    var k = 0
    for f in 0..<count {
      while k + 1 < hits.count && hits[k + 1].frame <= f { k += 1 }
      if f <= first.frame {
        boxes.append(first.box)
      } else if f >= last.frame {
        boxes.append(last.box)
      } else {
        let (a, b) = (hits[k], hits[k + 1])
        let t = Double(f - a.frame) / Double(b.frame - a.frame)
        boxes.append(zip(a.box, b.box).map { $0 + ($1 - $0) * t })
      }
      covered.append(f >= first.frame && f <= last.frame)
    }
    return FaceTrack(
      frameCount: count, width: w, height: h, every: step, boxes: boxes, covered: covered)
  }

  /// Short side of the frames a track's detector scans (downscaled further than a clip's own
  /// detection: a track scans the whole video).
  static let trackShortSide = 160

  /// The frame size a track's detector scans.
  var trackSize: (Int, Int) { scaledSize(shortSide: Self.trackShortSide) }

  /// The frame size a clip's detector scans: the short side at `detectionShortSide`.
  var detectionSize: (Int, Int) { scaledSize(shortSide: Self.detectionShortSide) }

  /// The frame size with the short side at `shortSide` and the long side at most 4 × `shortSide`
  /// (work bounded by pixels: a 4096 × 16 video is scanned at 960 × 4, not scaled up to
  /// 61440 × 240).
  func scaledSize(shortSide: Int) -> (Int, Int) {
    let scale = min(
      Double(shortSide) / Double(max(min(info.width, info.height), 1)),
      Double(4 * shortSide) / Double(max(max(info.width, info.height), 1)))
    return (
      max(1, Int((Double(info.width) * scale).rounded())),
      max(1, Int((Double(info.height) * scale).rounded()))
    )
  }

  /// The main face of each RGB frame (nil: none), detected on both cores; Ctrl-C stops it after
  /// the frames under way (`StopRequest.Stopped`).
  static func detect(_ rgbFrames: [[UInt8]], _ w: Int, _ h: Int, _ detector: any FaceFinder)
    throws -> [HaarCascade.Face?]
  {
    var found = [HaarCascade.Face?](repeating: nil, count: rgbFrames.count)
    var failures = [String?](repeating: nil, count: rgbFrames.count)
    found.withUnsafeMutableBufferPointer { out in
      failures.withUnsafeMutableBufferPointer { errors in
        let slots = UncheckedSendable(out), errorSlots = UncheckedSendable(errors)
        DispatchQueue.concurrentPerform(iterations: rgbFrames.count) { f in  // own slots each
          if StopRequest.pending { return }
          do {
            slots.value[f] = try detector.mainFace(rgb: rgbFrames[f], width: w, height: h)
          } catch {
            errorSlots.value[f] = "\(error)"
          }
        }
      }
    }
    try StopRequest.check("face detection")
    if let failure = failures.compactMap({ $0 }).first {
      throw MediaError("face detection", "\(detector.name): \(failure)")
    }
    return found
  }
}
