import Faces
import Foundation
import Media
import SVFAP
import TestSupport
import Testing
import Tools

/// MTCNN against facenet-pytorch 2.6.0's own outputs (Tests/Fixtures/mtcnn, made outside the
/// project): each network on fixed inputs within 1e-4, and the detector on frames of the example
/// media: the same faces, boxes and landmarks within 1 px.
@Suite(
  .serialized,
  .enabled(
    if: FileManager.default.fileExists(atPath: MTCNNWeights.folder + "/onet.pt"),
    "MTCNN's weights are not fetched (scripts/setup runs scripts/fetch-mtcnn)"))
struct MTCNNFixtureTests {
  static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Fixtures/mtcnn")
  static let media = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(
      "examples/media")

  /// A fixture tensor as planes (N, C, H, W) or its values.
  func tensor(_ file: SafeTensorsFile, _ name: String) throws -> (values: [Float], shape: [Int]) {
    let t = try file.tensor(name)
    return (t.toFloats(), t.shape)
  }

  func largestDifference(_ a: [Float], _ b: [Float]) -> Float {
    guard a.count == b.count else { return .infinity }
    return zip(a, b).map { abs($0 - $1) }.max() ?? 0
  }

  @Test func eachNetworkMatchesFacenetPytorch() throws {
    let mtcnn = try MTCNNWeights.shared()
    let file = try SafeTensorsFile(
      path: Self.fixtures.appendingPathComponent("mtcnn_nets.safetensors").path)
    func planes(_ name: String) throws -> Planes {
      let (v, s) = try tensor(file, name)
      return Planes(n: s[0], c: s[1], h: s[2], w: s[3], data: v)
    }
    let (pBox, pProb) = mtcnn.pnet(try planes("pnet.input"))
    #expect([pBox.n, pBox.c, pBox.h, pBox.w] == (try tensor(file, "pnet.output0")).shape)
    #expect(largestDifference(pBox.data, try tensor(file, "pnet.output0").values) < 1e-4)
    #expect(largestDifference(pProb.data, try tensor(file, "pnet.output1").values) < 1e-4)
    let (rBox, rProb) = mtcnn.rnet(try planes("rnet.input"))
    #expect(largestDifference(rBox, try tensor(file, "rnet.output0").values) < 1e-4)
    #expect(largestDifference(rProb, try tensor(file, "rnet.output1").values) < 1e-4)
    let (oBox, oMarks, oProb) = mtcnn.onet(try planes("onet.input"))
    #expect(largestDifference(oBox, try tensor(file, "onet.output0").values) < 1e-4)
    #expect(largestDifference(oMarks, try tensor(file, "onet.output1").values) < 1e-4)
    #expect(largestDifference(oProb, try tensor(file, "onet.output2").values) < 1e-4)
  }

  struct Expected: Decodable {
    struct Frame: Decodable {
      let file: String, frame: Int, size: [Int], faces: [Face]
    }
    struct Face: Decodable {
      let box: [Double], score: Double, landmarks: [[Double]]
    }
    let frames: [Frame]
  }

  /// The pixels facenet-pytorch saw (the generator decoded videos with PyAV and JPEGs with PIL;
  /// frames/ holds them losslessly as PNG): every face, box and landmark within 1 px.
  @Test func detectionsMatchFacenetPytorchOnItsOwnPixels() throws {
    let mtcnn = try MTCNNWeights.shared()
    let expected = try JSONDecoder().decode(
      Expected.self,
      from: try Data(contentsOf: Self.fixtures.appendingPathComponent("mtcnn_detections.json")))
    let folder = Self.fixtures.appendingPathComponent("frames")
    let pngs = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter {
      $0.hasSuffix(".png")
    }
    #expect(pngs.count == 4)
    var worst = 0.0
    for png in pngs.sorted() {
      let f = try #require(
        expected.frames.first {
          png == $0.file.replacingOccurrences(of: "/", with: "-").replacingOccurrences(
            of: ".", with: "-")
            + "-frame\($0.frame).png"
        }, "\(png) is no fixture frame")
      let reader = try VideoReader(path: folder.appendingPathComponent(png).path)
      let (w, h) = (reader.info.width, reader.info.height)
      let rgb = try #require(try reader.frames([0], width: w, height: h).first)
      let found = try mtcnn.detect(rgb: rgb, width: w, height: h)
      #expect(
        found.count == f.faces.count,
        "\(png): \(found.count) faces, facenet-pytorch \(f.faces.count)")
      for (mine, theirs) in zip(found, f.faces) {
        let boxError = zip(mine.box, theirs.box).map { abs($0 - $1) }.max() ?? 0
        let markError =
          zip(mine.landmarks.joined(), theirs.landmarks.joined()).map { abs($0 - $1) }.max() ?? 0
        worst = max(worst, boxError, markError)
        #expect(
          boxError <= 1 && markError <= 1,
          "\(png): box off by \(boxError) px, landmarks by \(markError) px")
        #expect(abs(mine.score - theirs.score) < 1e-3)
      }
    }
    print("MTCNN against facenet-pytorch on its own pixels: largest difference \(worst) px")
  }

  /// Through our decoder (FFmpeg's YUV and JPEG conversions differ from PyAV's and PIL's by up to
  /// ~12 levels per pixel, which moves the cascade's boxes by a few pixels): the same faces on
  /// every fixture frame, each overlapping facenet-pytorch's by IoU ≥ 0.8.
  @Test(
    .enabled(
      if: FileManager.default.fileExists(
        atPath: media.appendingPathComponent("single_face.mp4").path),
      "the example media are not fetched (scripts/fetch-examples)"))
  func theSameFacesThroughOurDecoder() throws {
    let mtcnn = try MTCNNWeights.shared()
    let expected = try JSONDecoder().decode(
      Expected.self,
      from: try Data(contentsOf: Self.fixtures.appendingPathComponent("mtcnn_detections.json")))
    #expect(expected.frames.count >= 8)
    var worst = 0.0, lowestIoU = 1.0
    for f in expected.frames {
      let reader = try VideoReader(path: Self.media.appendingPathComponent(f.file).path)
      let (w, h) = (reader.info.width, reader.info.height)
      #expect([w, h] == f.size, "\(f.file): size")
      let rgb = try #require(try reader.frames([f.frame], width: w, height: h).first)
      let found = try mtcnn.detect(rgb: rgb, width: w, height: h)
      #expect(
        found.count == f.faces.count,
        "\(f.file) frame \(f.frame): \(found.count) faces, facenet-pytorch \(f.faces.count)")
      for (mine, theirs) in zip(found, f.faces) {
        let iou = Self.iou(mine.box, theirs.box)
        lowestIoU = min(lowestIoU, iou)
        worst = max(worst, zip(mine.box, theirs.box).map { abs($0 - $1) }.max() ?? 0)
        #expect(iou >= 0.8, "\(f.file) frame \(f.frame): IoU \(iou)")
      }
    }
    print(
      "MTCNN through FFmpeg's decoding: lowest IoU \(lowestIoU), largest box difference \(worst) px"
    )
  }

  static func iou(_ a: [Double], _ b: [Double]) -> Double {
    let iw = max(min(a[2], b[2]) - max(a[0], b[0]), 0),
      ih = max(min(a[3], b[3]) - max(a[1], b[1]), 0)
    let inter = iw * ih
    let union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return union > 0 ? inter / union : 0
  }
}
