import Foundation

/// What a face crop says about itself: on how many sampled frames a face was found, shot cuts
/// between sampled frames, how far the face moved, and frames where the crop box missed the face.
/// `warnings` turns these into sentences; a clean clip has none.
public struct FaceCropReport: Sendable, Equatable {
  /// The video frame index of each sampled frame.
  public let frames: [Int]
  /// Per sampled frame, whether the detector found a face on it.
  public let found: [Bool]
  /// Shot changes inside the clip: the last clip position before each and the first after it (a
  /// cut spans one step; a fade or dissolve, several): from the sampled frames' colours, from
  /// every decoded frame between them (the adaptive content detector), and from jumps of the
  /// detected face between sampled frames (another person): by more than its width, or of its
  /// landmarks' geometry (MTCNN) by more than `FaceTracks.geometryJump`.
  public private(set) var cuts: [Cut]

  /// A shot change between clip positions `before` and `after`.
  public struct Cut: Sendable, Equatable {
    /// The last clip position of the old shot and the first of the new one.
    public let before: Int, after: Int
  }
  /// The largest move of the detected face's centre between neighbouring sampled frames, in face
  /// widths.
  public let movement: Double
  /// Clip positions whose crop box holds less than half of the face detected there.
  public let offFace: [Int]

  /// Sampled frames with a face.
  public var withFace: Int { found.filter { $0 }.count }
  /// The fraction of sampled frames with a face.
  public var fraction: Double { Double(withFace) / Double(max(found.count, 1)) }

  /// Fewer faces than this fraction of the sampled frames is worth a warning.
  public static let enoughFaces = 0.8
  /// A face moving more than this many face widths between sampled frames is worth a warning.
  public static let fastMovement = 0.5
  /// A face moving more than this many face widths between sampled frames is another face: a cut.
  public static let identityJump = 1.0

  /// The report's warnings (empty for a clean clip).
  public var warnings: [String] {
    var out: [String] = []
    if fraction < Self.enoughFaces {
      let missing = found.indices.filter { !found[$0] }.map { frames[$0] }
      out.append(
        """
        a face was found on \(withFace) of \(found.count) sampled frames \
        (\(Int((fraction * 100).rounded())) %); none on frames \(Self.list(missing)) \
        (a title card, or the face turned away?)
        """)
    }
    for c in cuts {
      out.append(
        """
        a shot change between frames \(frames[c.before]) and \(frames[c.after]): the clip shows \
        two shots (load with avoid_cuts: true to take a clip within one)
        """)
    }
    if !offFace.isEmpty {
      out.append(
        "the crop box holds less than half of the face on frames \(Self.list(offFace.map { frames[$0] }))"
      )
    }
    if movement > Self.fastMovement && cuts.isEmpty {
      out.append(
        String(
          format: "the face moves up to %.1f face widths between sampled frames", movement))
    }
    return out
  }

  /// Adds cuts found at video frame indices (each f: between frames f − 1 and f) as the clip
  /// positions around them, joined with the cuts already known.
  public mutating func addCuts(_ frameIndices: [Int]) {
    var positions = Set(cuts.flatMap { c in ((c.before + 1)...c.after).map { $0 } })
    for f in frameIndices {
      if let after = frames.firstIndex(where: { $0 >= f }), after > 0 { positions.insert(after) }
    }
    cuts = Self.group(positions.sorted())
  }

  /// Cut positions (each i: between i−1 and i) with neighbours joined into one change.
  static func group(_ positions: [Int]) -> [Cut] {
    var out: [Cut] = []
    for i in positions {
      if let last = out.last, last.after == i - 1 {
        out[out.count - 1] = Cut(before: last.before, after: i)
      } else {
        out.append(Cut(before: i - 1, after: i))
      }
    }
    return out
  }

  /// The first few numbers of a list, then "…".
  static func list(_ xs: [Int]) -> String {
    xs.prefix(8).map(String.init).joined(separator: ", ") + (xs.count > 8 ? ", …" : "")
  }

  /// The report of a crop: `detected` per sampled frame (in the frames' pixels), the crop `boxes`
  /// used (same pixels), the RGB `frames` (width × height) for the cut test.
  static func make(
    frames indices: [Int], rgb: [[UInt8]], width: Int, height: Int,
    detected: [HaarCascade.Face?], boxes: [[Double]]
  ) -> FaceCropReport {
    var offFace: [Int] = []
    for (i, face) in detected.enumerated() {
      guard let f = face, i < boxes.count else { continue }
      let b = boxes[i]
      let ix = max(0, min(f.x + f.width, b[0] + b[2]) - max(f.x, b[0]))
      let iy = max(0, min(f.y + f.height, b[1] + b[3]) - max(f.y, b[1]))
      if ix * iy < 0.5 * f.width * f.height { offFace.append(i) }
    }
    var movement = 0.0, jumps: [Int] = []
    for i in detected.indices.dropFirst() {
      guard let a = detected[i - 1], let b = detected[i] else { continue }
      let d = hypot(
        (a.x + a.width / 2) - (b.x + b.width / 2), (a.y + a.height / 2) - (b.y + b.height / 2))
      let moved = d / max((a.width + b.width) / 2, 1)
      movement = max(movement, moved)
      // The face jumps by more than its width, its size changes by half, or its landmarks'
      // geometry changes abruptly: another face.
      let sizeRatio = max(a.width, b.width) / max(min(a.width, b.width), 1)
      let reshaped =
        FaceTracks.shapeDistance(FaceTracks.shape(a), FaceTracks.shape(b)) > FaceTracks.geometryJump
      if moved > identityJump || sizeRatio > 1.5 || reshaped { jumps.append(i) }
    }
    let colourCuts = ShotCuts.between(rgb, width: width, height: height)
    return FaceCropReport(
      frames: indices, found: detected.map { $0 != nil },
      cuts: Self.group(Array(Set(colourCuts + jumps)).sorted()), movement: movement,
      offFace: offFace)
  }
}

extension VideoReader {
  /// A face-cropped clip that lies within one shot and shows the face: when the clip from `start`
  /// runs across a shot change, the clip right after the change is taken instead (or the one
  /// ending before it when the video ends too soon), up to `tries` times; when the clip is still
  /// across a change or has a face on under 80 % of its frames, the best of `candidates` windows
  /// spread over the video (within one shot first, then the most frames with a face) is taken.
  /// Returns the clip and each move, in words.
  public func clipWithinOneShot(
    _ spec: ClipSpec, start: Int?, tries: Int = 2, candidates: Int = 8
  ) throws -> (clip: Clip, moves: [String]) {
    var checked = spec
    (checked.crop, checked.faceReport) = (.face, true)
    var clip = try self.clip(checked, start: start)
    var moves: [String] = []
    let span = (spec.frames - 1) * spec.stride + 1, last = info.frameCount - span
    for _ in 0..<tries {
      guard let report = clip.faceReport, let cut = report.cuts.first else { break }
      let (before, after) = (report.frames[cut.before], report.frames[cut.after])
      guard let next = [after, before - span + 1].first(where: { $0 >= 0 && $0 <= last }) else {
        break
      }
      moves.append(
        "the clip runs across a shot cut between frames \(before) and \(after); taking frames from \(next)"
      )
      clip = try self.clip(checked, start: next)
    }
    func score(_ c: Clip) -> (Int, Double) {
      guard let r = c.faceReport else { return (0, 0) }
      return (r.cuts.isEmpty ? 1 : 0, r.fraction)
    }
    guard score(clip) < (1, FaceCropReport.enoughFaces), last > 0 else { return (clip, moves) }
    var best = clip
    let starts = ClipSampler.uniformStarts(
      k: candidates, frames: spec.frames, stride: spec.stride, frameCount: info.frameCount)
    for s in starts where s != clip.frameIndices.first {
      let c = try self.clip(checked, start: s)
      if score(c) > score(best) { best = c }
    }
    if best.frameIndices.first != clip.frameIndices.first, let r = best.faceReport {
      moves.append(
        """
        the clip \(clip.faceReport.map { $0.cuts.isEmpty ? "" : "runs across a shot cut and " } ?? "")\
        shows a face on \(Int(((clip.faceReport?.fraction ?? 0) * 100).rounded())) % of its frames; \
        taking frames from \(best.frameIndices.first ?? 0) (a face on \(Int((r.fraction * 100).rounded())) %\
        \(r.cuts.isEmpty ? ", one shot" : ""), the best of \(starts.count) windows)
        """)
    }
    return (best, moves)
  }
}

/// Shot cuts between consecutive frames: the colour histograms change a lot (half their mass
/// moves), or change clearly while the picture changes as a whole (a mean absolute difference of
/// a coarse thumbnail above a fifth of the range).
public enum ShotCuts {
  /// Histogram distance (0…1, half the L1 distance of 4×4×4-bin colour histograms) that alone
  /// marks a cut.
  public static let histogramCut = 0.5
  /// Histogram distance that marks a cut together with a thumbnail difference above
  /// `thumbnailCut`.
  public static let histogramChange = 0.25
  /// Mean absolute difference of 16 × 16 grey thumbnails (0…1) that, with a histogram change, marks
  /// a cut.
  public static let thumbnailCut = 0.2

  /// Positions i where a cut lies between frame i−1 and frame i.
  public static func between(_ frames: [[UInt8]], width: Int, height: Int) -> [Int] {
    guard frames.count > 1, width > 0, height > 0 else { return [] }
    let hists = frames.map { histogram($0, width * height) }
    let thumbs = frames.map { thumbnail($0, width: width, height: height) }
    return (1..<frames.count).filter { i in
      let h = zip(hists[i - 1], hists[i]).map { abs($0 - $1) }.reduce(0, +) / 2
      let t =
        zip(thumbs[i - 1], thumbs[i]).map { abs($0 - $1) }.reduce(0, +)
        / Double(thumbs[i].count)
      return h > histogramCut || (h > histogramChange && t > thumbnailCut)
    }
  }

  /// A normalized 64-bin RGB histogram.
  static func histogram(_ rgb: [UInt8], _ pixels: Int) -> [Double] {
    var bins = [Double](repeating: 0, count: 64)
    let n = min(pixels, rgb.count / 3)
    for p in 0..<n {
      let k = Int(rgb[3 * p] >> 6) * 16 + Int(rgb[3 * p + 1] >> 6) * 4 + Int(rgb[3 * p + 2] >> 6)
      bins[k] += 1
    }
    return bins.map { $0 / Double(max(n, 1)) }
  }

  /// A 16 × 16 grey thumbnail in 0…1 (block means).
  static func thumbnail(_ rgb: [UInt8], width: Int, height: Int) -> [Double] {
    var sums = [Double](repeating: 0, count: 256), counts = [Double](repeating: 0, count: 256)
    for y in 0..<height {
      for x in 0..<width {
        let p = (y * width + x) * 3
        guard p + 2 < rgb.count else { continue }
        let k = (y * 16 / height) * 16 + x * 16 / width
        sums[k] += (Double(rgb[p]) + Double(rgb[p + 1]) + Double(rgb[p + 2])) / 765
        counts[k] += 1
      }
    }
    return zip(sums, counts).map { $1 > 0 ? $0 / $1 : 0 }
  }
}
