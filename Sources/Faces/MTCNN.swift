import Foundation
import StopRequests

/// A face MTCNN found: its box [x0, y0, x1, y1] and five landmarks (left eye, right eye, nose,
/// left and right mouth corner) in source pixels, and its probability.
public struct DetectedFace: Sendable, Equatable {
  /// x0, y0, x1, y1.
  public var box: [Double]
  /// The O-Net's face probability.
  public var score: Double
  /// Five (x, y) points.
  public var landmarks: [[Double]]

  /// The box's width × height.
  public var area: Double { max(box[2] - box[0], 0) * max(box[3] - box[1], 0) }
}

/// MTCNN (Zhang et al. 2016) as facenet-pytorch 2.6.0 runs it with its defaults: an image pyramid
/// from the smallest face (20 px) by a factor of 0.709, P-Net proposals (probability ≥ 0.6) with
/// non-maximum suppression per scale (IoU 0.5) and over all (0.7), their boxes regressed and made
/// square, R-Net on 24 × 24 crops (> 0.7, NMS 0.7), O-Net on 48 × 48 crops (> 0.7) with five
/// landmarks, the last NMS by the smaller area (0.7); crops are clipped at the image's border and
/// resized by area averaging; the largest face first.
public struct MTCNN: Sendable {
  /// The three networks.
  public let pnet: PNet, rnet: RNet, onet: ONet
  /// The smallest face searched for, in pixels.
  public var minimumFace = 20.0
  /// Probability thresholds of the three stages.
  public var thresholds: [Float] = [0.6, 0.7, 0.7]
  /// The pyramid's scale factor.
  public var factor = 0.709
  /// The largest image side analysed; larger images are refused (bounded work per frame).
  public static let largestSide = 8192

  /// A detector of three networks.
  public init(pnet: PNet, rnet: RNet, onet: ONet) {
    (self.pnet, self.rnet, self.onet) = (pnet, rnet, onet)
  }

  /// The faces in an RGB image (`rgb`: height × width × 3 bytes), largest first. Ctrl-C stops it
  /// between stages.
  public func detect(rgb: [UInt8], width: Int, height: Int) throws -> [DetectedFace] {
    guard width > 0, height > 0, rgb.count >= width * height * 3 else {
      throw FaceError(
        "an image of \(width) × \(height) pixels with \(rgb.count) bytes cannot be searched")
    }
    guard width <= Self.largestSide, height <= Self.largestSide else {
      throw FaceError(
        "an image of \(width) × \(height) pixels is larger than \(Self.largestSide) on a side: scale it down first"
      )
    }
    var image = Planes(n: 1, c: 3, h: height, w: width)
    for y in 0..<height {
      for x in 0..<width {
        for c in 0..<3 {
          image.data[(c * height + y) * width + x] = Float(rgb[(y * width + x) * 3 + c])
        }
      }
    }
    // The pyramid.
    let m = 12.0 / minimumFace
    var minSide = Double(min(height, width)) * m, scale = m
    var scales: [Double] = []
    while minSide >= 12 {
      scales.append(scale)
      scale *= factor
      minSide *= factor
    }
    // Stage 1.
    var candidates: [Candidate] = []
    for s in scales {
      try StopRequest.check("face detection")
      let (hs, ws) = (Int(Double(height) * s + 1), Int(Double(width) * s + 1))
      let input = Self.normalized(
        Self.resize(image, rows: 0..<height, cols: 0..<width, to: hs, ws), 3, hs, ws)
      let (reg, prob) = pnet(input)
      var found: [Candidate] = []
      let plane = prob.h * prob.w
      for y in 0..<prob.h {
        for x in 0..<prob.w {
          let p = prob.data[plane + y * prob.w + x]
          guard p >= thresholds[0] else { continue }
          let fs = Float(s)
          let q1x = ((2 * Float(x) + 1) / fs).rounded(.down),
            q1y = ((2 * Float(y) + 1) / fs).rounded(.down)
          let q2x = ((2 * Float(x) + 12) / fs).rounded(.down),
            q2y = ((2 * Float(y) + 12) / fs).rounded(.down)
          let r = (0..<4).map { reg.data[$0 * plane + y * prob.w + x] }
          found.append(Candidate(box: [q1x, q1y, q2x, q2y], score: p, reg: r))
        }
      }
      let proposals = Self.best(found)
      candidates += Self.nms(proposals, threshold: 0.5).map { proposals[$0] }
    }
    candidates = Self.best(candidates)
    candidates = Self.nms(candidates, threshold: 0.7).map { candidates[$0] }
    var boxes = candidates.map { c -> Candidate in
      let w = c.box[2] - c.box[0], h = c.box[3] - c.box[1]
      let b = [
        c.box[0] + c.reg[0] * w, c.box[1] + c.reg[1] * h, c.box[2] + c.reg[2] * w,
        c.box[3] + c.reg[3] * h,
      ]
      return Candidate(box: Self.square(b), score: c.score, reg: [])
    }
    // Stage 2.
    try StopRequest.check("face detection")
    if !boxes.isEmpty {
      let (kept, crops) = Self.crops(image, boxes, size: 24)
      boxes = kept.map { boxes[$0] }
      let (reg, prob) = rnet(crops)
      var passed: [Candidate] = []
      for i in boxes.indices where prob[i * 2 + 1] > thresholds[1] {
        passed.append(
          Candidate(
            box: boxes[i].box, score: prob[i * 2 + 1], reg: Array(reg[(i * 4)..<(i * 4 + 4)])))
      }
      boxes = Self.nms(passed, threshold: 0.7).map { passed[$0] }.map {
        Candidate(box: Self.square(Self.regress($0.box, $0.reg)), score: $0.score, reg: [])
      }
    }
    // Stage 3.
    try StopRequest.check("face detection")
    var faces: [(Candidate, [[Double]])] = []
    if !boxes.isEmpty {
      let (kept, crops) = Self.crops(image, boxes, size: 48)
      boxes = kept.map { boxes[$0] }
      let (reg, marks, prob) = onet(crops)
      for i in boxes.indices where prob[i * 2 + 1] > thresholds[2] {
        let b = boxes[i].box
        let w = b[2] - b[0] + 1, h = b[3] - b[1] + 1
        let points = (0..<5).map { k in
          [Double(w * marks[i * 10 + k] + b[0] - 1), Double(h * marks[i * 10 + 5 + k] + b[1] - 1)]
        }
        let r = Array(reg[(i * 4)..<(i * 4 + 4)])
        faces.append((Candidate(box: Self.regress(b, r), score: prob[i * 2 + 1], reg: []), points))
      }
      faces = Self.nmsByMinimum(faces.map(\.0), threshold: 0.7).map { faces[$0] }
    }
    return faces.map {
      DetectedFace(box: $0.0.box.map(Double.init), score: Double($0.0.score), landmarks: $0.1)
    }.sorted { $0.area > $1.area }
  }

  /// A box with its probability and regression.
  struct Candidate {
    var box: [Float]
    var score: Float
    var reg: [Float]
  }

  /// At most this many proposals enter a suppression (its cost grows with their square): a
  /// textured 8192-pixel image cannot stall the detector; real frames stay far below it.
  static let mostProposals = 4000

  /// The proposals, the `mostProposals` most probable kept when there are more (in their order).
  static func best(_ boxes: [Candidate]) -> [Candidate] {
    guard boxes.count > mostProposals else { return boxes }
    let keep = Set(boxes.indices.sorted { boxes[$0].score > boxes[$1].score }.prefix(mostProposals))
    return boxes.indices.filter { keep.contains($0) }.map { boxes[$0] }
  }

  /// (x − 127.5) / 128 of planes (1, c, h, w).
  static func normalized(_ values: [Float], _ c: Int, _ h: Int, _ w: Int) -> Planes {
    Planes(n: 1, c: c, h: h, w: w, data: values.map { ($0 - 127.5) * 0.0078125 })
  }

  /// The region of an image (1, 3, H, W) resized to oh × ow by area averaging (PyTorch's
  /// `interpolate(mode: "area")`: each output pixel averages its input window
  /// [⌊i·n/o⌋, ⌈(i+1)·n/o⌉)).
  static func resize(_ image: Planes, rows: Range<Int>, cols: Range<Int>, to oh: Int, _ ow: Int)
    -> [Float]
  {
    let (ih, iw) = (rows.count, cols.count)
    var out = [Float](repeating: 0, count: 3 * oh * ow)
    guard ih > 0, iw > 0, oh > 0, ow > 0 else { return out }
    let ys = (0..<oh).map { (($0 * ih) / oh, (($0 + 1) * ih + oh - 1) / oh) }
    let xs = (0..<ow).map { (($0 * iw) / ow, (($0 + 1) * iw + ow - 1) / ow) }
    image.data.withUnsafeBufferPointer { src in
      for c in 0..<3 {
        let plane = c * image.h * image.w
        for (i, (y0, y1)) in ys.enumerated() {
          for (j, (x0, x1)) in xs.enumerated() {
            var sum: Float = 0
            for y in y0..<y1 {
              let row = plane + (rows.lowerBound + y) * image.w + cols.lowerBound
              for x in x0..<x1 { sum += src[row + x] }
            }
            out[(c * oh + i) * ow + j] = sum / Float((y1 - y0) * (x1 - x0))
          }
        }
      }
    }
    return out
  }

  /// The crops of boxes (truncated to whole pixels, clipped to the image), resized and normalized
  /// as a batch, with the indices of the boxes that had pixels.
  static func crops(_ image: Planes, _ boxes: [Candidate], size: Int) -> (kept: [Int], Planes) {
    var kept: [Int] = [], data: [Float] = []
    for (i, c) in boxes.enumerated() {
      let x = max(Int(c.box[0].rounded(.towardZero)), 1),
        y = max(Int(c.box[1].rounded(.towardZero)), 1)
      let ex = min(Int(c.box[2].rounded(.towardZero)), image.w),
        ey = min(Int(c.box[3].rounded(.towardZero)), image.h)
      guard ey > y - 1, ex > x - 1 else { continue }
      kept.append(i)
      data += resize(image, rows: (y - 1)..<ey, cols: (x - 1)..<ex, to: size, size).map {
        ($0 - 127.5) * 0.0078125
      }
    }
    return (kept, Planes(n: kept.count, c: 3, h: size, w: size, data: data))
  }

  /// A box moved by a regression, in units of its width and height (+1, as the original code).
  static func regress(_ b: [Float], _ r: [Float]) -> [Float] {
    let w = b[2] - b[0] + 1, h = b[3] - b[1] + 1
    return [b[0] + r[0] * w, b[1] + r[1] * h, b[2] + r[2] * w, b[3] + r[3] * h]
  }

  /// The square around a box's centre with its longer side.
  static func square(_ b: [Float]) -> [Float] {
    let h = b[3] - b[1], w = b[2] - b[0], l = max(w, h)
    let x0 = b[0] + w * 0.5 - l * 0.5, y0 = b[1] + h * 0.5 - l * 0.5
    return [x0, y0, x0 + l, y0 + l]
  }

  /// Non-maximum suppression by intersection over union (areas without +1, as torchvision's):
  /// the kept indices, highest probability first.
  static func nms(_ boxes: [Candidate], threshold: Float) -> [Int] {
    let order = boxes.indices.sorted { boxes[$0].score > boxes[$1].score }
    var removed = [Bool](repeating: false, count: boxes.count), keep: [Int] = []
    func area(_ b: [Float]) -> Float { max(b[2] - b[0], 0) * max(b[3] - b[1], 0) }
    for (n, i) in order.enumerated() where !removed[i] {
      keep.append(i)
      let a = boxes[i].box
      for j in order[(n + 1)...] where !removed[j] {
        let b = boxes[j].box
        let iw = max(min(a[2], b[2]) - max(a[0], b[0]), 0),
          ih = max(min(a[3], b[3]) - max(a[1], b[1]), 0)
        let inter = iw * ih
        if inter / (area(a) + area(b) - inter) > threshold { removed[j] = true }
      }
    }
    return keep
  }

  /// Non-maximum suppression by the intersection over the smaller area (areas with +1, as the
  /// original code's last stage).
  static func nmsByMinimum(_ boxes: [Candidate], threshold: Float) -> [Int] {
    var order = boxes.indices.sorted { boxes[$0].score < boxes[$1].score }
    var keep: [Int] = []
    func area(_ b: [Float]) -> Float { (b[2] - b[0] + 1) * (b[3] - b[1] + 1) }
    while let i = order.popLast() {
      keep.append(i)
      let a = boxes[i].box
      order = order.filter { j in
        let b = boxes[j].box
        let iw = max(min(a[2], b[2]) - max(a[0], b[0]) + 1, 0),
          ih = max(min(a[3], b[3]) - max(a[1], b[1]) + 1, 0)
        return iw * ih / min(area(a), area(b)) <= threshold
      }
    }
    return keep
  }
}
