import Dispatch
import Foundation
import StopRequests
import Tensor

/// The chosen face's box on every frame of a video, computed once: the detector runs on every
/// `every`-th frame at the track's resolution, its faces are linked from scan to scan into one
/// track per person (by box overlap and, with MTCNN, landmark motion: `FaceTracks.link`), one
/// track is chosen (`FaceChoice`), and its boxes are interpolated linearly between detections and
/// held before the first and after the last. Face crops of any clip of the video
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
  /// How many faces were tracked through the video (those seen on at least half as many scans
  /// as the most seen); nil in tracks of one face.
  public var faces: Int? = nil
  /// The scanned frames on which the chosen face was detected (nil in tracks made without).
  public var seen: [Int]? = nil
  /// Shot changes over every frame of the video (the adaptive content detector on thumbnails):
  /// each f is a cut between frames f − 1 and f (nil in tracks made without).
  public var cuts: [Int]? = nil
  /// Per frame, the chosen face's five landmarks (x0, y0, …, x4, y4 in detector pixels), each
  /// scan's placed in its box and interpolated between scans as the boxes are; nil where the
  /// detector gives no landmarks (the Haar cascade) or a scan of the track had none.
  public var landmarks: [[Double]]? = nil

  /// Whether the chosen face shows on frame `f`: it was detected on the scan before `f` or the
  /// one after, with no shot change between that scan and `f`.
  public func detectedNear(_ f: Int) -> Bool {
    guard let seen else { return covered.indices.contains(f) && covered[f] }
    let step = max(every, 1), before = f / step * step, after = before + step
    let cutsHere = cuts ?? []
    func clear(_ a: Int, _ b: Int) -> Bool { !cutsHere.contains { $0 > a && $0 <= b } }
    return (seen.contains(before) && clear(before, f))
      || (after < frameCount && seen.contains(after) && clear(f, after))
  }

  /// Whether any scanned frame had a face.
  public var hasFace: Bool { !boxes.isEmpty }

  /// Whether every row has its shape (4 finite numbers a box, 10 a landmark row, one of each per
  /// frame): what a file read back must hold before any crop indexes into it.
  public var isWellFormed: Bool {
    func rows(_ r: [[Double]], _ n: Int) -> Bool {
      r.allSatisfy { $0.count == n && $0.allSatisfy(\.isFinite) }
    }
    return (boxes.isEmpty || boxes.count == frameCount) && covered.count == boxes.count
      && rows(boxes, 4) && (landmarks.map { $0.count == frameCount && rows($0, 10) } ?? true)
  }
}

extension VideoReader {
  /// The face track of this video, the detector running on every `every`-th frame (decoded in
  /// chunks, detected on both cores).
  public func faceTrack(
    detector: any FaceFinder, every: Int = 8, choice: FaceChoice = .largest
  ) throws -> FaceTrack {
    let (w, h) = trackSize
    let count = max(info.frameCount, 1), step = max(every, 1)
    let scanned = Array(stride(from: 0, to: count, by: step))
    var scans: [(frame: Int, faces: [[Double]])] = []
    for chunk in stride(from: 0, to: scanned.count, by: 64) {
      try StopRequest.check("face tracking")
      let indices = Array(scanned[chunk..<min(chunk + 64, scanned.count)])
      let faces = try Self.detectAll(try frames(indices, width: w, height: h), w, h, detector)
      for (i, f) in zip(indices, faces) {
        scans.append((i, f.map { [$0.x, $0.y, $0.width, $0.height] + FaceTracks.shape($0) }))
      }
    }
    let cuts = try wholeVideoCuts()
    let tracks = FaceTracks.link(scans)
    let (chosen, faces) = FaceTracks.choose(tracks, choice: choice, width: w, height: h)
    if case .index(let n) = choice, chosen == nil, faces > 0 {
      throw MediaError(
        info.path,
        "face: \(n) asks for a face that was not \(count == 1 ? "found" : "tracked"): \(faces) face(s) in the \(count == 1 ? "picture" : "video") (0…\(faces - 1))"
      )
    }
    let hits = chosen ?? []
    guard let first = hits.first, let last = hits.last else {
      var empty = FaceTrack(
        frameCount: count, width: w, height: h, every: step, boxes: [], covered: [])
      (empty.seen, empty.cuts) = ([], cuts)
      return empty
    }
    // Each scan's box, followed by its landmarks in detector pixels when every scan has them.
    let withMarks = hits.allSatisfy { $0.shape?.count == 10 }
    let points = hits.map { hit -> [Double] in
      guard withMarks, let shape = hit.shape else { return hit.box }
      let b = hit.box
      return b
        + shape.indices.map { i in i % 2 == 0 ? b[0] + shape[i] * b[2] : b[1] + shape[i] * b[3] }
    }
    var rows: [[Double]] = [], covered: [Bool] = []
    var k = 0
    for f in 0..<count {
      while k + 1 < hits.count && hits[k + 1].frame <= f { k += 1 }
      if f <= first.frame {
        rows.append(points[0])
      } else if f >= last.frame {
        rows.append(points[points.count - 1])
      } else {
        let t = Double(f - hits[k].frame) / Double(hits[k + 1].frame - hits[k].frame)
        rows.append(zip(points[k], points[k + 1]).map { $0 + ($1 - $0) * t })
      }
      covered.append(f >= first.frame && f <= last.frame)
    }
    var track = FaceTrack(
      frameCount: count, width: w, height: h, every: step, boxes: rows.map { Array($0.prefix(4)) },
      covered: covered)
    track.landmarks = withMarks ? rows.map { Array($0.dropFirst(4)) } : nil
    track.faces = faces > 1 ? faces : nil
    (track.seen, track.cuts) = (hits.map(\.frame), cuts)
    return track
  }

  /// The shot changes over every frame of the video, in chunks of thumbnails overlapping by the
  /// detector's window (memory bounded by the chunk, not the video).
  func wholeVideoCuts() throws -> [Int] {
    let (tw, th) = ContentCuts.thumbnailSize(width: info.width, height: info.height)
    let count = max(info.frameCount, 1), chunk = 512, overlap = 2 * ContentCuts.window + 1
    var found = Set<Int>()
    var start = 0
    while start < count {
      try StopRequest.check("shot detection")
      let end = min(start + chunk, count)
      let from = max(start - overlap, 0), to = min(end + overlap, count)
      let thumbs = try frames(Array(from..<to), width: tw, height: th)
      for c in ContentCuts.cuts(thumbs, width: tw, height: th)
      where (start..<end).contains(from + c) {
        found.insert(from + c)
      }
      start = end
    }
    return found.sorted()
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

  /// Every face of each RGB frame (the main one first), detected on both cores; Ctrl-C stops it
  /// after the frames under way (`StopRequest.Stopped`), a detector's error is thrown.
  static func detectAll(_ rgbFrames: [[UInt8]], _ w: Int, _ h: Int, _ detector: any FaceFinder)
    throws -> [[HaarCascade.Face]]
  {
    var found = [[HaarCascade.Face]](repeating: [], count: rgbFrames.count)
    var failures = [String?](repeating: nil, count: rgbFrames.count)
    found.withUnsafeMutableBufferPointer { out in
      failures.withUnsafeMutableBufferPointer { errors in
        let slots = UncheckedSendable(out), errorSlots = UncheckedSendable(errors)
        DispatchQueue.concurrentPerform(iterations: rgbFrames.count) { f in  // own slots each
          if StopRequest.pending { return }
          do {
            slots.value[f] = try detector.allFaces(rgb: rgbFrames[f], width: w, height: h)
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

  /// The main face of each RGB frame (nil: none): the first of `detectAll`'s.
  static func detect(_ rgbFrames: [[UInt8]], _ w: Int, _ h: Int, _ detector: any FaceFinder)
    throws -> [HaarCascade.Face?]
  {
    try detectAll(rgbFrames, w, h, detector).map(\.first)
  }
}

/// Which face a video's track follows when several are tracked.
public enum FaceChoice: Sendable, Equatable, CustomStringConvertible {
  /// The face seen longest and largest (scans with it × its mean area).
  case largest
  /// The face nearest the frame's centre on average.
  case center
  /// The n-th face in the order of `largest` (0 is the largest).
  case index(Int)

  /// The choice a word names: "largest", "center" or a face's number 0…999; nil for anything else.
  public init?(_ text: String) {
    switch text {
    case "largest": self = .largest
    case "center": self = .center
    default:
      guard let n = Int(text), (0..<1000).contains(n) else { return nil }
      self = .index(n)
    }
  }

  /// As the language writes it.
  public var description: String {
    switch self {
    case .largest: return "\"largest\""
    case .center: return "\"center\""
    case .index(let n): return "\(n)"
    }
  }
}

/// Linking a video's detections into one track per person, and choosing one.
enum FaceTracks {
  /// A track: the frames it was detected on, its box (x, y, w, h) there and its landmarks'
  /// geometry (`shape`; nil from detectors without landmarks).
  typealias Track = [(frame: Int, box: [Double], shape: [Double]?)]

  /// A face's five landmarks relative to its box (x and y as fractions of its width and height:
  /// 10 numbers), empty without landmarks. How a face is posed, independent of where it is.
  static func shape(_ face: HaarCascade.Face) -> [Double] {
    guard let marks = face.landmarks, marks.count == 5, face.width > 0, face.height > 0 else {
      return []
    }
    return marks.flatMap { m in
      m.count == 2 ? [(m[0] - face.x) / face.width, (m[1] - face.y) / face.height] : [0, 0]
    }
  }

  /// How far apart two landmark geometries are: the mean absolute difference of their 10 numbers
  /// (a fraction of the box). The same face 2–4 frames apart: at most 0.05 on the example videos;
  /// two people's faces: 0.06 in the median.
  static func shapeDistance(_ a: [Double], _ b: [Double]) -> Double {
    guard a.count == 10, b.count == 10 else { return 0 }
    return zip(a, b).map { abs($0 - $1) }.reduce(0, +) / 10
  }

  /// Landmark geometries further apart than this between neighbouring scans or sampled frames
  /// are not one face in one shot: an identity jump.
  static let geometryJump = 0.08

  /// Faces of consecutive scans linked by overlap and landmark motion: a face may join a track
  /// whose last box it overlaps (IoU ≥ 0.3) or — with landmarks — whose last face it continues
  /// (its centre within one face width, its landmark geometry within `geometryJump`: a face
  /// moving faster than boxes overlap); pairs are taken best first (IoU plus up to 0.5 for
  /// agreeing landmarks), a track taking one face per scan; others start a track; a track not seen
  /// for 4 scans ends. A face whose landmarks jumped is not linked by overlap alone.
  static func link(_ scans: [(frame: Int, faces: [[Double]])]) -> [Track] {
    var tracks: [Track] = [], missed: [Int] = []
    for var scan in scans {
      scan.faces = dropNested(scan.faces)
      let open = tracks.indices.filter { missed[$0] < 4 }
      var pairs: [(score: Double, track: Int, face: Int)] = []
      for t in open {
        guard let last = tracks[t].last else { continue }
        for (k, f) in scan.faces.enumerated() {
          let o = iou(last.box, f)
          let shape = Array(f.dropFirst(4))
          guard let before = last.shape, shape.count == 10 else {
            if o >= 0.3 { pairs.append((o, t, k)) }
            continue
          }
          let d = shapeDistance(before, shape)
          guard d <= geometryJump else { continue }
          let moved =
            hypot(
              last.box[0] + last.box[2] / 2 - f[0] - f[2] / 2,
              last.box[1] + last.box[3] / 2 - f[1] - f[3] / 2)
            / max((last.box[2] + f[2]) / 2, 1)
          if o >= 0.3 || moved <= 1 { pairs.append((o + 0.5 * (1 - d / geometryJump), t, k)) }
        }
      }
      var usedTracks = Set<Int>(), usedFaces = Set<Int>()
      for p in pairs.sorted(by: { $0.score > $1.score })
      where !usedTracks.contains(p.track) && !usedFaces.contains(p.face) {
        let f = scan.faces[p.face]
        tracks[p.track].append(
          (scan.frame, Array(f.prefix(4)), f.count == 14 ? Array(f.dropFirst(4)) : nil))
        usedTracks.insert(p.track)
        usedFaces.insert(p.face)
      }
      for t in open where !usedTracks.contains(t) { missed[t] += 1 }
      for t in usedTracks { missed[t] = 0 }
      for (k, f) in scan.faces.enumerated() where !usedFaces.contains(k) {
        tracks.append([
          (scan.frame, Array(f.prefix(4)), f.count == 14 ? Array(f.dropFirst(4)) : nil)
        ])
        missed.append(0)
      }
    }
    return tracks
  }

  /// The chosen track and how many faces count as tracked (seen on at least half as many scans
  /// as the most seen).
  static func choose(_ tracks: [Track], choice: FaceChoice, width: Int, height: Int) -> (
    Track?, faces: Int
  ) {
    guard let most = tracks.map(\.count).max() else { return (nil, 0) }
    // A face that is there: seen on at least half as many scans as the most seen one (a detector's
    // passing false positive is not a person).
    let counted = tracks.filter { $0.count * 2 >= most }
    func size(_ t: Track) -> Double {
      Double(t.count) * t.map { $0.box[2] * $0.box[3] }.reduce(0, +) / Double(max(t.count, 1))
    }
    let bySize = counted.sorted { size($0) > size($1) }
    switch choice {
    case .largest: return (bySize.first, counted.count)
    case .index(let n): return (n >= 0 && n < bySize.count ? bySize[n] : nil, counted.count)
    case .center:
      let (cx, cy) = (Double(width) / 2, Double(height) / 2)
      func distance(_ t: Track) -> Double {
        t.map { hypot($0.box[0] + $0.box[2] / 2 - cx, $0.box[1] + $0.box[3] / 2 - cy) }
          .reduce(0, +) / Double(max(t.count, 1))
      }
      return (counted.min { distance($0) < distance($1) }, counted.count)
    }
  }

  /// A scan's faces without those lying mostly (60 %) inside a larger one: a detector's hit on an
  /// eye or a mouth is part of the face around it, not another person.
  static func dropNested(_ faces: [[Double]]) -> [[Double]] {
    var kept: [[Double]] = []
    for f in faces.sorted(by: { $0[2] * $0[3] > $1[2] * $1[3] }) {
      let inside = kept.contains { k in
        let iw = max(min(k[0] + k[2], f[0] + f[2]) - max(k[0], f[0]), 0)
        let ih = max(min(k[1] + k[3], f[1] + f[3]) - max(k[1], f[1]), 0)
        return iw * ih >= 0.6 * f[2] * f[3]
      }
      if !inside { kept.append(f) }
    }
    return kept
  }

  /// Intersection over union of two (x, y, w, h) boxes.
  static func iou(_ a: [Double], _ b: [Double]) -> Double {
    let iw = max(min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]), 0)
    let ih = max(min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]), 0)
    let inter = iw * ih, union = a[2] * a[3] + b[2] * b[3] - inter
    return union > 0 ? inter / union : 0
  }
}
