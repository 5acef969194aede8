import Foundation
import SafeFiles

/// A Viola-Jones face detector evaluated in Swift from OpenCV's Haar cascade XML files (Debian's
/// `opencv-data`): integral images, boosted stumps per stage, variance normalization, scanning
/// windows over scales, and grouping of overlapping hits (OpenCV's detectMultiScale, minNeighbors
/// style).
public struct HaarCascade: Sendable {
  struct Rect: Sendable {
    let x, y, w, h: Int
    let weight: Double
  }
  struct Stump: Sendable {
    let feature: Int
    let threshold: Double
    let left: Double
    let right: Double
  }
  struct Stage: Sendable {
    let threshold: Double
    let stumps: [Stump]
  }

  /// Training window size.
  public let windowWidth: Int, windowHeight: Int
  let stages: [Stage]
  let features: [[Rect]]

  /// The default frontal-face cascade shipped by opencv-data.
  public static let defaultPath =
    "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml"

  nonisolated(unsafe) private static var cached: HaarCascade?
  private static let cacheLock = NSLock()
  /// The default cascade, read once (loader threads may ask at the same time: the cache is locked).
  public static func shared() throws -> HaarCascade {
    try cacheLock.withLock {
      if let c = cached { return c }
      let c = try HaarCascade()
      cached = c
      return c
    }
  }

  /// Reads a cascade XML (OpenCV's new format with stumps); anything else is an error naming the
  /// file.
  public init(path: String = HaarCascade.defaultPath) throws {
    guard let data = try? SafeFile.read(path),
      let text = String(data: data, encoding: .utf8)
    else {
      throw MediaError(
        path, "cannot read the Haar cascade (install Debian's opencv-data: scripts/setup does)")
    }
    func fail(_ m: String) -> MediaError {
      MediaError(path, "not a Haar cascade this reader understands: " + m)
    }
    func contents(_ tag: String, in s: Substring) -> [Substring] {
      var out: [Substring] = []
      var rest = s[...]
      while let a = rest.range(of: "<\(tag)>"),
        let b = rest.range(of: "</\(tag)>", range: a.upperBound..<rest.endIndex)
      {
        out.append(rest[a.upperBound..<b.lowerBound])
        rest = rest[b.upperBound...]
      }
      return out
    }
    func numbers(_ s: Substring) -> [Double] {
      s.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\r" || $0 == "\t" }).compactMap {
        Double($0)
      }
    }
    guard text.contains("<featureType>HAAR</featureType>"), let split = text.range(of: "<features>")
    else { throw fail("no HAAR features") }
    guard
      let w = contents("width", in: text[...]).first.flatMap({
        Int($0.trimmingCharacters(in: .whitespaces))
      }),
      let h = contents("height", in: text[...]).first.flatMap({
        Int($0.trimmingCharacters(in: .whitespaces))
      })
    else { throw fail("no window size") }
    (windowWidth, windowHeight) = (w, h)
    let stagePart = text[..<split.lowerBound], featurePart = text[split.upperBound...]
    var stages: [Stage] = []
    for block in contents("weakClassifiers", in: stagePart) {
      let nodes = contents("internalNodes", in: block).map(numbers),
        leaves = contents("leafValues", in: block).map(numbers)
      guard nodes.count == leaves.count, nodes.allSatisfy({ $0.count == 4 }),
        leaves.allSatisfy({ $0.count == 2 })
      else {
        throw fail("a weak classifier is not a stump")
      }
      stages.append(
        Stage(
          threshold: 0,
          stumps: zip(nodes, leaves).map {
            Stump(feature: Int($0[2]), threshold: $0[3], left: $1[0], right: $1[1])
          }))
    }
    let thresholds = contents("stageThreshold", in: stagePart).map {
      Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }
    guard thresholds.count == stages.count, !stages.isEmpty else {
      throw fail("\(thresholds.count) stage thresholds for \(stages.count) stages")
    }
    self.stages = zip(stages, thresholds).map { Stage(threshold: $1, stumps: $0.stumps) }
    if featurePart.contains("<tilted>1</tilted>") {
      throw fail("tilted features are not supported")
    }
    var feats: [[Rect]] = []
    for block in contents("rects", in: featurePart) {
      var rects: [Rect] = []
      for values in contents("_", in: block).map(numbers) where values.count == 5 {
        rects.append(
          Rect(
            x: Int(values[0]), y: Int(values[1]), w: Int(values[2]), h: Int(values[3]),
            weight: values[4]))
      }
      feats.append(rects)
    }
    features = feats
    guard let maxFeature = self.stages.flatMap({ $0.stumps.map(\.feature) }).max(),
      maxFeature < features.count
    else {
      throw fail("a stump names a missing feature")
    }
  }

  /// A detected face: box in pixels and how many overlapping windows supported it.
  public struct Face: Sendable, Equatable {
    /// Left, top, width, height.
    public var x, y, width, height: Double
    /// Supporting windows.
    public var neighbors: Int
    /// Five landmarks (eyes, nose, mouth corners) when the detector gives them (MTCNN).
    public var landmarks: [[Double]]? = nil

    /// A face box (and its support; 0 for other detectors) and its landmarks.
    public init(
      x: Double, y: Double, width: Double, height: Double, neighbors: Int,
      landmarks: [[Double]]? = nil
    ) {
      (self.x, self.y, self.width, self.height, self.neighbors) = (x, y, width, height, neighbors)
      self.landmarks = landmarks
    }
  }

  /// Faces in a grayscale image (row-major, width × height), largest support first.
  public func detect(
    gray: [UInt8], width: Int, height: Int, scaleFactor: Double = 1.1, minNeighbors: Int = 3,
    minSize: Int = 30
  ) -> [Face] {
    // Integral image and squared integral, (W+1) x (H+1).
    let iw = width + 1
    var sum = [Double](repeating: 0, count: iw * (height + 1)), sq = sum
    for y in 0..<height {
      var rs = 0.0, rq = 0.0
      for x in 0..<width {
        let v = Double(gray[y * width + x])
        rs += v
        rq += v * v
        sum[(y + 1) * iw + x + 1] = sum[y * iw + x + 1] + rs
        sq[(y + 1) * iw + x + 1] = sq[y * iw + x + 1] + rq
      }
    }
    var hits: [Face] = []
    var scale = max(1.0, Double(minSize) / Double(windowWidth))
    // Flattened cascade: per stump its threshold, leaves and range of rectangles.
    let stumps = stages.flatMap(\.stumps)
    var stageEnds: [Int] = []
    var acc = 0
    for st in stages {
      acc += st.stumps.count
      stageEnds.append(acc)
    }
    let stageThresholds = stages.map(\.threshold)
    sum.withUnsafeBufferPointer { S in
      sq.withUnsafeBufferPointer { Q in
        while Int(Double(windowWidth) * scale) <= width
          && Int(Double(windowHeight) * scale) <= height
        {
          let ww = Int(Double(windowWidth) * scale), wh = Int(Double(windowHeight) * scale)
          // Each stump's rectangles as four corner offsets into the integral image plus a weight;
          // the first rectangle's weight is corrected so each feature still sums to zero after
          // rounding.
          var corners: [Int] = [], weights: [Double] = [], ranges: [Range<Int>] = []
          for st in stumps {
            let rects = features[st.feature]
            var rs = rects.map { r -> Rect in
              let x = min(Int((Double(r.x) * scale).rounded()), ww - 1),
                y = min(Int((Double(r.y) * scale).rounded()), wh - 1)
              let w = max(1, min(Int((Double(r.w) * scale).rounded()), ww - x)),
                h = max(1, min(Int((Double(r.h) * scale).rounded()), wh - y))
              return Rect(x: x, y: y, w: w, h: h, weight: r.weight)
            }
            if rs.count > 1 {
              let rest = rs.dropFirst().map { Double($0.w * $0.h) * $0.weight }.reduce(0, +)
              rs[0] = Rect(
                x: rs[0].x, y: rs[0].y, w: rs[0].w, h: rs[0].h,
                weight: -rest / Double(rs[0].w * rs[0].h))
            }
            let start = weights.count
            for r in rs {
              corners += [
                r.y * iw + r.x, r.y * iw + r.x + r.w, (r.y + r.h) * iw + r.x,
                (r.y + r.h) * iw + r.x + r.w,
              ]
              weights.append(r.weight)
            }
            ranges.append(start..<weights.count)
          }
          let n = Int(scale.rounded())
          let (nw, nh) = (ww - 2 * n, wh - 2 * n)
          let area = Double(nw * nh)
          let n0 = n * iw + n, n1 = n * iw + n + nw, n2 = (n + nh) * iw + n,
            n3 = (n + nh) * iw + n + nw
          // OpenCV: 1 or 2 pixels of the scaled image
          let step = max(2, Int((scale * (scale > 2 ? 1 : 2)).rounded()))
          corners.withUnsafeBufferPointer { C in
            weights.withUnsafeBufferPointer { W in
              var y = 0
              while y + wh <= height {
                var x = 0
                while x + ww <= width {
                  let base = y &* iw &+ x
                  let s = S[base + n3] - S[base + n1] - S[base + n2] + S[base + n0]
                  let q = Q[base + n3] - Q[base + n1] - Q[base + n2] + Q[base + n0]
                  var norm = area * q - s * s
                  norm = norm > 0 ? norm.squareRoot() : 1
                  var passed = true
                  var k = 0
                  for (si, end) in stageEnds.enumerated() {
                    var total = 0.0
                    while k < end {
                      let st = stumps[k]
                      var v = 0.0
                      for ri in ranges[k] {
                        let c = ri &* 4
                        v +=
                          W[ri]
                          * (S[base &+ C[c + 3]] - S[base &+ C[c + 1]] - S[base &+ C[c + 2]]
                            + S[base &+ C[c]])
                      }
                      total += v < st.threshold * norm ? st.left : st.right
                      k += 1
                    }
                    if total < stageThresholds[si] {
                      passed = false
                      break
                    }
                  }
                  if passed {
                    hits.append(
                      Face(
                        x: Double(x), y: Double(y), width: Double(ww), height: Double(wh),
                        neighbors: 1))
                  }
                  x += step
                }
                y += step
              }
            }
          }
          scale *= scaleFactor
        }
      }
    }
    return Self.group(hits, minNeighbors: minNeighbors)
  }

  /// Clusters overlapping windows (similar position and size) and averages each cluster.
  static func group(_ hits: [Face], minNeighbors: Int) -> [Face] {
    var parent = Array(0..<hits.count)
    func find(_ i: Int) -> Int {
      var i = i
      while parent[i] != i {
        parent[i] = parent[parent[i]]
        i = parent[i]
      }
      return i
    }
    for i in 0..<hits.count {
      for j in (i + 1)..<max(hits.count, i + 1) {
        let a = hits[i], b = hits[j]
        let delta = 0.2 * (min(a.width, b.width) + min(a.height, b.height)) * 0.5
        if abs(a.x - b.x) <= delta && abs(a.y - b.y) <= delta
          && abs(a.x + a.width - b.x - b.width) <= delta
          && abs(a.y + a.height - b.y - b.height) <= delta
        {
          parent[find(i)] = find(j)
        }
      }
    }
    var groups: [Int: [Face]] = [:]
    for (i, h) in hits.enumerated() { groups[find(i), default: []].append(h) }
    return groups.values.filter { $0.count >= minNeighbors }.map { g in
      let n = Double(g.count)
      return Face(
        x: g.map(\.x).reduce(0, +) / n, y: g.map(\.y).reduce(0, +) / n,
        width: g.map(\.width).reduce(0, +) / n,
        height: g.map(\.height).reduce(0, +) / n, neighbors: g.count)
    }.sorted { $0.neighbors * Int($0.width) > $1.neighbors * Int($1.width) }
  }
}
