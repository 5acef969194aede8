import Foundation
import Testing
import Tools

@testable import Faces
@testable import Media

/// MTCNN on images of any size and content: a result or a clear error, never a trap; missing or
/// corrupt weights name the file and how to fetch it.
@Suite(
  .enabled(
    if: FileManager.default.fileExists(atPath: MTCNNWeights.folder + "/onet.pt"),
    "MTCNN's weights are not fetched (scripts/setup runs scripts/fetch-mtcnn)"))
struct MTCNNInputTests {
  @Test(arguments: [(1, 1), (8192, 8), (8, 8192), (4096, 16), (11, 11), (12, 12), (64, 48)])
  func anyShapeGivesAResult(size: (Int, Int)) throws {
    let (w, h) = size
    let grey = [UInt8](repeating: 128, count: w * h * 3)
    let faces = try MTCNNWeights.shared().detect(rgb: grey, width: w, height: h)
    #expect(faces.isEmpty, "a grey \(w) × \(h) image has no face")
  }

  @Test func noiseAndBadSizesAreRefusedOrEmpty() throws {
    let mtcnn = try MTCNNWeights.shared()
    var g = SystemRandomNumberGenerator()
    let noise = (0..<(320 * 240 * 3)).map { _ in UInt8.random(in: 0...255, using: &g) }
    let found = try mtcnn.detect(rgb: noise, width: 320, height: 240)
    #expect(found.allSatisfy { $0.score > 0.7 && $0.box.allSatisfy(\.isFinite) })
    #expect(throws: FaceError.self) { try mtcnn.detect(rgb: [], width: 0, height: 10) }
    #expect(throws: FaceError.self) { try mtcnn.detect(rgb: [1, 2, 3], width: 10, height: 10) }
    #expect(throws: FaceError.self) {
      try mtcnn.detect(rgb: [UInt8](repeating: 0, count: 8193 * 3), width: 8193, height: 1)
    }
  }

  @Test func missingOrCorruptWeightsSayWhichFileAndHowToFetchIt() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
      "svfap-mtcnn-\(UUID().uuidString)"
    ).path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    do {
      _ = try MTCNNWeights.load(from: dir)
      Issue.record("no weights loaded")
    } catch {
      #expect(
        "\(error)".contains(dir + "/pnet.pt is missing")
          && "\(error)".contains("scripts/fetch-mtcnn"))
      #expect("\(error)".contains("detector: \"haar\""))
    }
    try Data("not a checkpoint".utf8).write(to: URL(fileURLWithPath: dir + "/pnet.pt"))
    do {
      _ = try MTCNNWeights.load(from: dir)
      Issue.record("corrupt weights loaded")
    } catch {
      #expect("\(error)".contains("pnet.pt cannot be read") && "\(error)".contains("fetch-mtcnn"))
    }
    // The right file under the wrong name: a shape error naming the network.
    try FileManager.default.copyItem(
      atPath: MTCNNWeights.folder + "/rnet.pt", toPath: dir + "/onet.pt")
    try FileManager.default.removeItem(atPath: dir + "/pnet.pt")
    try FileManager.default.copyItem(
      atPath: MTCNNWeights.folder + "/pnet.pt", toPath: dir + "/pnet.pt")
    try FileManager.default.copyItem(
      atPath: MTCNNWeights.folder + "/rnet.pt", toPath: dir + "/rnet.pt")
    do {
      _ = try MTCNNWeights.load(from: dir)
      Issue.record("R-Net weights taken as the O-Net's")
    } catch {
      #expect("\(error)".contains("O-Net"), "\(error)")
    }
  }
}

/// Aligned crops: the landmarks MTCNN finds again in an aligned clip's frames sit on the template.
@Suite(
  .enabled(
    if: FileManager.default.fileExists(atPath: MTCNNWeights.folder + "/onet.pt")
      && FileManager.default.fileExists(
        atPath: MTCNNFixtureTests.media.appendingPathComponent("single_face.mp4").path),
    "MTCNN's weights or the example media are not fetched (scripts/setup)"))
struct AlignedCropTests {
  @Test func theLandmarksOfAnAlignedCropSitOnTheTemplate() throws {
    MTCNNWeights.register()
    var spec = ClipSpec()
    (spec.crop, spec.detector, spec.align, spec.frames, spec.size) = (.face, .mtcnn, true, 4, 160)
    let reader = try VideoReader(
      path: MTCNNFixtureTests.media.appendingPathComponent("single_face.mp4").path)
    let clip = try reader.clip(spec)
    // The clip says it is aligned (figure titles and summaries read it), and so does a still of
    // it set in motion.
    #expect(clip.aligned)
    #expect(try clip.animated(from: 0, frames: 2, strength: 0.3, seed: 1).aligned)
    let t = clip.tensor.toFloats(), (s, frames) = (spec.size, spec.frames)
    let target = FaceAlignment.target(size: s)
    // What alignment promises: the eyes where the template has them, level, at its distance
    // (mouth corners move with the expression, so a 5-point fit leaves them off the template).
    let (eyes, eyeDistance) = (
      [(target[0][0] + target[1][0]) / 2, (target[0][1] + target[1][1]) / 2],
      target[1][0] - target[0][0]
    )
    var worstCentre = 0.0, worstAngle = 0.0, worstScale = 0.0
    for f in 0..<frames {
      var rgb = [UInt8](repeating: 0, count: s * s * 3)
      for y in 0..<s {
        for x in 0..<s {
          for c in 0..<3 {
            let v = t[((c * frames + f) * s + y) * s + x] * imageNetStd[c] + imageNetMean[c]
            rgb[(y * s + x) * 3 + c] = UInt8(min(max(v * 255, 0), 255).rounded())
          }
        }
      }
      let face = try #require(try MTCNNWeights.shared().detect(rgb: rgb, width: s, height: s).first)
      let (l, r) = (face.landmarks[0], face.landmarks[1])
      worstCentre = max(
        worstCentre, hypot((l[0] + r[0]) / 2 - eyes[0], (l[1] + r[1]) / 2 - eyes[1]))
      worstAngle = max(worstAngle, abs(atan2(r[1] - l[1], r[0] - l[0])) * 180 / .pi)
      worstScale = max(worstScale, abs(hypot(r[0] - l[0], r[1] - l[1]) / eyeDistance - 1))
    }
    #expect(worstCentre < 5, "the eyes' centre up to \(worstCentre) px from the template's")
    #expect(worstAngle < 5, "the eye line tilted up to \(worstAngle)°")
    #expect(worstScale < 0.15, "the eye distance off by up to \(worstScale * 100) %")
    // Without landmarks (the Haar cascade) alignment is refused, naming the way out.
    spec.detector = .haar
    #expect(throws: MediaError.self) { try reader.clip(spec) }
    spec.align = false
    #expect(try !reader.clip(spec).aligned)
  }

  /// Aligned crops take the face asked for (they read the video's track, landmarks included):
  /// before session 15, `face:` was ignored with align: true and every face of a group photo gave
  /// its largest.
  @Test func anAlignedCropTakesTheFaceAskedFor() throws {
    MTCNNWeights.register()
    let path = MTCNNFixtureTests.media.appendingPathComponent("stills/multi_face.jpg").path
    try #require(FileManager.default.fileExists(atPath: path))
    var spec = ClipSpec()
    (spec.crop, spec.detector, spec.frames) = (.face, .mtcnn, 1)
    func box(_ face: Int, align: Bool) throws -> [Double] {
      (spec.face, spec.align) = (.index(face), align)
      let clip = try VideoReader(path: path).clip(spec)
      #expect(clip.aligned == align)
      return clip.sourceBoxes.first ?? []
    }
    let (first, second) = (try box(0, align: true), try box(1, align: true))
    #expect(first.count == 4 && first != second, "faces 0 and 1 gave \(first) and \(second)")
    #expect(second == (try box(1, align: false)), "the box crop's face 1 is another face")
  }

  /// Aligned crops decode frames large enough that the face is as wide as the template draws it,
  /// but never past the source's size: a small face of a large photograph is not blurred.
  @Test func alignedCropsDecodeLargeEnoughForTheFace() throws {
    let path = MTCNNFixtureTests.media.appendingPathComponent("stills/multi_face.jpg").path
    try #require(FileManager.default.fileExists(atPath: path))
    let reader = try VideoReader(path: path)
    let (sw, sh) = (reader.info.width, reader.info.height)
    let frame = reader.detectionSize  // the detection size, short side 320
    let needed = 160 / FaceAlignment.margin  // 128 px
    // A face already as wide as the template: the detection size.
    #expect(reader.alignmentSize(faceWidth: needed, at: frame, 160) == frame)
    // A face half as wide: twice the size, or the source's where that is smaller.
    let twice = reader.alignmentSize(faceWidth: needed / 2, at: frame, 160)
    let expected = min(2 * min(frame.0, frame.1), min(sw, sh))
    #expect(abs(min(twice.0, twice.1) - expected) <= 1, "\(twice) for a source of \(sw)x\(sh)")
    // A tiny face: never past the source.
    let tiny = reader.alignmentSize(faceWidth: 1, at: frame, 160)
    #expect(tiny.0 <= sw && tiny.1 <= sh && tiny.0 * tiny.1 <= 4_000_000, "\(tiny)")
  }

  @Test func similarityFitsAKnownTransform() throws {
    let truth = FaceAlignment.Similarity(a: 0.8, b: 0.3, tx: 5, ty: -7)
    let source = FaceAlignment.template
    let target = source.map(truth.apply)
    let fit = try #require(FaceAlignment.similarity(from: source, to: target))
    #expect(
      abs(fit.a - 0.8) < 1e-9 && abs(fit.b - 0.3) < 1e-9 && abs(fit.tx - 5) < 1e-9
        && abs(fit.ty + 7) < 1e-9)
    #expect(FaceAlignment.similarity(from: [[1, 1], [1, 1]], to: [[0, 0], [2, 2]]) == nil)
    let back = try #require(fit.inverse(fit.apply([3, 4])))
    #expect(abs(back[0] - 3) < 1e-9 && abs(back[1] - 4) < 1e-9)
  }
}

/// A large textured image: the proposals entering a suppression are capped, so detection ends.
@Suite(
  .enabled(
    if: FileManager.default.fileExists(atPath: MTCNNWeights.folder + "/onet.pt"),
    "MTCNN's weights are not fetched (scripts/setup runs scripts/fetch-mtcnn)"))
struct MTCNNBoundTests {
  @Test func manyProposalsAreCapped() throws {
    let many = (0..<10_000).map { k in
      MTCNN.Candidate(box: [Float(k), 0, Float(k) + 10, 10], score: Float(k % 97) / 97, reg: [])
    }
    let best = MTCNN.best(many)
    #expect(best.count == MTCNN.mostProposals)
    #expect(
      best.map(\.score).min() ?? 0 >= many.map(\.score).sorted(by: >)[MTCNN.mostProposals - 1])
    #expect(MTCNN.best(Array(many.prefix(10))).count == 10)
  }
}
