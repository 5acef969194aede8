import Faces
import Foundation
import Testing
import Tools

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
