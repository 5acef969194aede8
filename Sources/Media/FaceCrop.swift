import Foundation
import Tensor

/// Face crops for clips: the main face's box on every sampled frame — read from the video's
/// `FaceTrack` when one is given, else detected with the Haar cascade — frames without one filled
/// from their neighbours, the box smoothed over time, enlarged by a margin, cropped square and
/// resized to the clip size.
extension VideoReader {
  /// Short side of the frames the detector scans (faces in SVFAP data fill much of the frame).
  static let detectionShortSide = 240

  /// A face-cropped clip, the number of sampled frames on which a face was detected, and the box
  /// used on each frame (original pixels). Without a face on any sampled frame this is an error
  /// naming the file, unless `fallbackToCenter` is set (then the center crop is used and the count
  /// is 0).
  public func faceClip(
    _ spec: ClipSpec, start: Int? = nil, detector: any FaceFinder, margin: Double = 1.3,
    fallbackToCenter: Bool = false, track: FaceTrack? = nil
  ) throws -> (clip: Clip, framesWithFace: Int, boxes: [[Double]]) {
    let idx = ClipSampler.indices(of: spec, start: start, frameCount: info.frameCount)
    if let track, track.hasFace, frameFiles == nil,
      track.boxes.count == track.frameCount, track.width > 0, track.height > 0,
      !spec.faceReport || (track.cuts != nil && track.seen != nil),
      !spec.align || track.landmarks?.count == track.frameCount
    {
      return try trackedFaceClip(spec, idx, track: track, detector: detector.name, margin: margin)
    }
    let (w, h) = detectionSize
    let scale = Double(Self.detectionShortSide) / Double(min(info.width, info.height))
    let rgbFrames = try frames(idx, width: w, height: h)
    var found: [HaarCascade.Face?]
    let detected: Int
    var detections: [HaarCascade.Face?]? = nil  // the detector's own answers, when it ran here
    if let track, track.width > 0, track.height > 0, track.covered.count == track.boxes.count,
      track.boxes.isEmpty || track.boxes.count == track.frameCount
    {
      // The video's track: its boxes at the sampled frames (scaled to these frames), no detection.
      let (sx, sy) = (Double(w) / Double(track.width), Double(h) / Double(track.height))
      found = idx.map { i in
        guard track.hasFace else { return nil }
        let b = track.boxes[min(max(i, 0), track.frameCount - 1)]
        return HaarCascade.Face(
          x: b[0] * sx, y: b[1] * sy, width: b[2] * sx, height: b[3] * sy, neighbors: 0)
      }
      detected =
        track.hasFace
        ? idx.filter { track.covered[min(max($0, 0), track.frameCount - 1)] }.count : 0
    } else {
      found = try Self.detect(rgbFrames, w, h, detector)
      detected = found.filter { $0 != nil }.count
      detections = found
    }
    guard found.contains(where: { $0 != nil }) else {
      if fallbackToCenter {
        var center = spec
        center.crop = .center
        var fallback = try clip(center, start: start)
        if spec.faceReport {
          fallback.faceReport = FaceCropReport.make(
            frames: idx, rgb: rgbFrames, width: w, height: h,
            detected: try detections ?? Self.detect(rgbFrames, w, h, detector), boxes: [])
        }
        return (fallback, 0, [])
      }
      throw MediaError(
        info.path,
        """
        no face found on any of the \(idx.count) sampled frames (frames \
        \(idx.first ?? 0)...\(idx.last ?? 0)); use crop: \"center\", or face_fallback: true to \
        fall back to it
        """
      )
    }
    // Frames without a detection take the nearest detected frame's box.
    let withFace = found.indices.filter { found[$0] != nil }
    for i in found.indices where found[i] == nil {
      if let nearest = withFace.min(by: { abs($0 - i) < abs($1 - i) }) { found[i] = found[nearest] }
    }
    // Smooth centres over time (moving average of 5) and use one size (the median) for the clip.
    let faces = found.compactMap { $0 }
    guard faces.count == found.count else {
      throw MediaError(info.path, "no face found on the sampled frames")
    }
    let detectedBoxes = faces.map { [$0.x, $0.y, $0.width, $0.height] }
    let boxes = faces.indices.map {
      Self.smoothedBox(
        detectedBoxes, at: $0, centreRadius: 2, sideRadius: faces.count, margin: margin,
        width: w, height: h)
    }
    var tensor = Self.cropResize(rgbFrames, width: w, height: h, boxes: boxes, size: spec.size)
    if spec.align {
      guard
        let warped = FaceAlignment.aligned(
          rgbFrames, width: w, height: h, landmarks: faces.map(\.landmarks), size: spec.size)
      else {
        throw MediaError(
          info.path,
          "align: true needs five landmarks per face: use detector: \"mtcnn\" (\(detector.name) gives boxes only)"
        )
      }
      tensor = warped
    }
    let mid = boxes[boxes.count / 2].map { Int(($0 / scale).rounded()) }
    let source = boxes.map { $0.map { $0 / scale } }
    var clip = Clip(
      tensor: tensor, frameIndices: idx, cropBox: mid, info: info, crop: .face,
      sourceBoxes: source)
    clip.detector = detector.name
    clip.aligned = spec.align
    if spec.faceReport {
      var report = FaceCropReport.make(
        frames: idx, rgb: rgbFrames, width: w, height: h,
        detected: try detections
          ?? Self.followed(Self.detectAll(rgbFrames, w, h, detector), boxes),
        boxes: boxes)
      report.addCuts(try contentCuts(idx))
      clip.faceReport = report
    }
    return (clip, detected, source)
  }

  /// A face crop whose boxes come from the video's track: the boxes are known before decoding, so
  /// each sampled frame's box is converted straight from the decoded picture to the clip's size
  /// (no frame-sized conversion), and the face report reads the track's scans and shot changes.
  func trackedFaceClip(
    _ spec: ClipSpec, _ idx: [Int], track: FaceTrack, detector: String, margin: Double
  ) throws -> (clip: Clip, framesWithFace: Int, boxes: [[Double]]) {
    let (w, h) = detectionSize
    let scale = Double(Self.detectionShortSide) / Double(min(info.width, info.height))
    let (sx, sy) = (Double(w) / Double(track.width), Double(h) / Double(track.height))
    let detected = idx.map { i -> [Double] in
      let b = track.boxes[min(max(i, 0), track.frameCount - 1)]
      return [b[0] * sx, b[1] * sy, b[2] * sx, b[3] * sy]
    }
    let boxes = detected.indices.map {
      Self.smoothedBox(
        detected, at: $0, centreRadius: 2, sideRadius: detected.count, margin: margin, width: w,
        height: h)
    }
    let source = boxes.map { $0.map { $0 / scale } }
    var regions: [Int: [Double]] = [:]
    for (i, b) in zip(idx, source) where regions[i] == nil { regions[i] = b }
    let size = spec.size
    let tensor: Tensor  // (1, 3, T, size, size)
    let shown: (rgb: [[UInt8]], width: Int, height: Int)  // what the face report looks at
    if spec.align, let marks = track.landmarks {
      // Aligned: each sampled frame warped by the similarity that puts the track's landmarks there
      // on the template, smoothed over time. The frames are decoded large enough that the face is
      // as wide as the template draws it (a small face of a large photograph is not blurred by the
      // detection size), at most at the source's size and 4 megapixels.
      let (dw, dh) = alignmentSize(faceWidth: detected.map { $0[2] }.max() ?? 0, at: (w, h), size)
      let rgb = try frames(idx, width: dw, height: dh)
      let (ax, ay) = (Double(dw) / Double(track.width), Double(dh) / Double(track.height))
      let points = idx.map { i -> [[Double]]? in
        let m = marks[min(max(i, 0), track.frameCount - 1)]
        return (0..<5).map { [m[2 * $0] * ax, m[2 * $0 + 1] * ay] }
      }
      guard
        let warped = FaceAlignment.aligned(
          rgb, width: dw, height: dh, landmarks: points, size: size)
      else {
        throw MediaError(
          info.path, "the tracked face's landmarks are degenerate on a sampled frame")
      }
      tensor = warped
      shown = (rgb, dw, dh)
    } else {
      let crops = try frames(idx, width: size, height: size, regions: regions)
      tensor = Self.normalize(crops, width: size, box: [0, 0, size, size])
      shown = (crops, size, size)
    }
    let covered = idx.filter { track.covered[min(max($0, 0), track.frameCount - 1)] }.count
    var clip = Clip(
      tensor: tensor, frameIndices: idx,
      cropBox: boxes[boxes.count / 2].map { Int(($0 / scale).rounded()) }, info: info, crop: .face,
      sourceBoxes: source)
    clip.detector = detector
    clip.aligned = spec.align
    if spec.faceReport, let cuts = track.cuts {
      let seen = idx.indices.map { k -> HaarCascade.Face? in
        guard track.detectedNear(idx[k]) else { return nil }
        let d = detected[k]
        return HaarCascade.Face(x: d[0], y: d[1], width: d[2], height: d[3], neighbors: 0)
      }
      var report = FaceCropReport.make(
        frames: idx, rgb: shown.rgb, width: shown.width, height: shown.height, detected: seen,
        boxes: boxes)
      let (first, last) = (idx.min() ?? 0, idx.max() ?? 0)
      report.addCuts(cuts.filter { $0 > first && $0 <= last })
      clip.faceReport = report
    }
    return (clip, covered, source)
  }

  /// The frame size to decode for an aligned crop of `size` whose face is `faceWidth` pixels wide
  /// in frames of `frame` size: scaled up until the face is as wide as the template draws it
  /// (size / margin), but not past the source's own size or 4 megapixels.
  func alignmentSize(faceWidth: Double, at frame: (Int, Int), _ size: Int) -> (Int, Int) {
    let (w, h) = frame
    let wanted = Double(size) / FaceAlignment.margin
    let bySource = Double(min(info.width, info.height)) / Double(max(min(w, h), 1))
    let byPixels = (4e6 / Double(max(w * h, 1))).squareRoot()
    let k = min(max(wanted / max(faceWidth, 1), 1), max(bySource, 1), max(byPixels, 1))
    guard k > 1.01 else { return frame }
    return scaledSize(shortSide: Int((Double(min(w, h)) * k).rounded()))
  }

  /// Per frame, the face the crop follows: of the frame's faces, the one overlapping its crop box
  /// (x, y, width, height) most, or the main one when none overlaps (so a crop beside every face
  /// is still reported).
  static func followed(_ all: [[HaarCascade.Face]], _ boxes: [[Double]]) -> [HaarCascade.Face?] {
    all.enumerated().map { i, faces in
      guard i < boxes.count else { return faces.first }
      let b = boxes[i]
      func overlap(_ f: HaarCascade.Face) -> Double {
        max(0, min(f.x + f.width, b[0] + b[2]) - max(f.x, b[0]))
          * max(0, min(f.y + f.height, b[1] + b[3]) - max(f.y, b[1]))
      }
      let best = faces.max { overlap($0) < overlap($1) }
      return best.map { overlap($0) > 0 } == true ? best : faces.first
    }
  }

  /// The cuts of every decoded frame from the clip's first to its last (thumbnails, the adaptive
  /// content detector), as frame indices f: a cut between frames f − 1 and f.
  func contentCuts(_ idx: [Int]) throws -> [Int] {
    guard let first = idx.min(), let last = idx.max(), last > first else { return [] }
    let every = Array(first...min(last, first + 4096))
    let (tw, th) = ContentCuts.thumbnailSize(width: info.width, height: info.height)
    let thumbs = try frames(every, width: tw, height: th)
    return ContentCuts.cuts(thumbs, width: tw, height: th).map { every[$0] }
  }

  /// Frame i's square crop box from face boxes (x, y, width, height): the centre averaged over
  /// ±`centreRadius` frames, the side the median of ±`sideRadius` frames' sides times `margin`,
  /// kept inside the width × height frame.
  static func smoothedBox(
    _ boxes: [[Double]], at i: Int, centreRadius: Int, sideRadius: Int, margin: Double,
    width: Int, height: Int
  ) -> [Double] {
    let near = boxes[max(0, i - centreRadius)...min(boxes.count - 1, i + centreRadius)]
    let cx = near.map { $0[0] + $0[2] / 2 }.reduce(0, +) / Double(near.count)
    let cy = near.map { $0[1] + $0[3] / 2 }.reduce(0, +) / Double(near.count)
    let sides = boxes[max(0, i - sideRadius)...min(boxes.count - 1, i + sideRadius)]
      .map { max($0[2], $0[3]) }.sorted()
    let side = min(sides[sides.count / 2] * margin, Double(min(width, height)))
    let x0 = min(max(cx - side / 2, 0), Double(width) - side)
    let y0 = min(max(cy - side / 2, 0), Double(height) - side)
    return [x0, y0, side, side]
  }

  /// Crops each frame's box and resizes it bilinearly to size × size, normalized: (1, 3, T, size,
  /// size).
  static func cropResize(_ frames: [[UInt8]], width: Int, height: Int, boxes: [[Double]], size: Int)
    -> Tensor
  {
    let t = frames.count
    let out = Tensor.zeros([1, 3, t, size, size])
    let p = out.pointer(Float.self)
    for (f, rgb) in frames.enumerated() {
      sampleBilinear(rgb, width: width, height: height, box: boxes[f], size: size) { y, x, c, v in
        p[((c * t + f) * size + y) * size + x] = (v / 255 - imageNetMean[c]) / imageNetStd[c]
      }
    }
    return out
  }

  /// Samples the square `box` (x, y, side, side) of an RGB24 frame bilinearly on a size × size
  /// grid, handing each (row, column, channel, value 0…255) to `store`.
  @inline(__always)
  static func sampleBilinear(
    _ rgb: [UInt8], width: Int, height: Int, box b: [Double], size: Int,
    _ store: (_ y: Int, _ x: Int, _ c: Int, _ v: Float) -> Void
  ) {
    let step = b[2] / Double(size)
    for y in 0..<size {
      let sy = min(max(b[1] + (Double(y) + 0.5) * step - 0.5, 0), Double(height - 1))
      let y0 = Int(sy), y1 = min(y0 + 1, height - 1), fy = Float(sy - Double(y0))
      for x in 0..<size {
        let sx = min(max(b[0] + (Double(x) + 0.5) * step - 0.5, 0), Double(width - 1))
        let x0 = Int(sx), x1 = min(x0 + 1, width - 1), fx = Float(sx - Double(x0))
        for c in 0..<3 {
          let a = Float(rgb[(y0 * width + x0) * 3 + c]),
            bb = Float(rgb[(y0 * width + x1) * 3 + c])
          let cc = Float(rgb[(y1 * width + x0) * 3 + c]),
            d = Float(rgb[(y1 * width + x1) * 3 + c])
          store(y, x, c, (a * (1 - fx) + bb * fx) * (1 - fy) + (cc * (1 - fx) + d * fx) * fy)
        }
      }
    }
  }
}
