import Foundation
import Testing
import Tools

@testable import Script
@testable import Workbench

/// `faces` in the language and `svfap faces` on the command line: MTCNN's faces as records and as
/// JSON lines (single_face.mp4's frame 30 decodes as facenet-pytorch's did, so its box is the
/// fixture's), and `show` of them.
@Suite(
  .serialized,
  .enabled(
    if: FileManager.default.fileExists(atPath: MTCNNWeights.folder + "/onet.pt")
      && FileManager.default.fileExists(atPath: exampleVideo("single_face.mp4")),
    "MTCNN's weights or the example media are not fetched (scripts/setup)"))
struct FacesCommandTests {
  static let fixtureBox = [213.851, 71.289, 362.81, 289.394]

  @Test func facesInTheLanguageAndShow() throws {
    let dir = try scratchFolder("faces")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let session = quietSession(in: dir)
    try session.interpreter.run(
      """
      f = faces("\(exampleVideo("single_face.mp4"))", frame: 30)
      n = len(f)
      box = f[0].box
      marks = len(f[0].landmarks)
      show f file: "faces.png"
      none = len(faces("\(exampleVideo("no_face.mp4"))"))
      """)
    let g = session.interpreter.globals
    #expect(g["n"] == .number(1) && g["marks"] == .number(5) && g["none"] == .number(0))
    guard case .list(let box)? = g["box"] else {
      Issue.record("no box")
      return
    }
    let numbers = box.compactMap { if case .number(let x) = $0 { x } else { nil } }
    #expect(zip(numbers, Self.fixtureBox).allSatisfy { abs($0 - $1) <= 0.01 }, "\(numbers)")
    #expect(session.lastFigureDrawn?.title.contains("1 face (MTCNN") == true)
    #expect(FileManager.default.fileExists(atPath: dir + "/faces.png"))
    do {
      try session.interpreter.run("faces(\"\(exampleVideo("single_face.mp4"))\", frame: 100000)")
      Issue.record("a frame past the end was searched")
    } catch { #expect("\(error)".contains("frame 100000 is outside")) }
  }

  @Test func svfapFacesPrintsJSONLines() throws {
    let dir = try scratchFolder("faces-cli")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var status: Int32 = 0
    waitpid(
      try spawnProcess(
        REPLTests.svfap, ["faces", exampleVideo("single_face.mp4"), "--frame", "30"],
        stdout: dir + "/out.json"), &status, 0)
    #expect((status >> 8) & 0xFF == 0)
    let lines = try String(contentsOfFile: dir + "/out.json", encoding: .utf8).split(
      separator: "\n")
    #expect(lines.count == 1)
    let face = try #require(
      try JSONSerialization.jsonObject(with: Data((lines.first ?? "").utf8)) as? [String: Any])
    #expect(
      (face["box"] as? [Double]).map {
        zip($0, Self.fixtureBox).allSatisfy { abs($0 - $1) <= 0.01 }
      } == true)
    #expect((face["landmarks"] as? [[Double]])?.count == 5)
    #expect((face["score"] as? Double ?? 0) > 0.99)
  }

  /// `crop: "face" detector: "mtcnn"`: the clip's crop boxes come from MTCNN and hold its face.
  @Test func faceCropsWithMTCNN() throws {
    let dir = try scratchFolder("faces-crop")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let session = quietSession(in: dir)
    try session.interpreter.run(
      """
      c = load "\(exampleVideo("single_face.mp4"))" crop: "face" detector: "mtcnn" frames: 8 stride: 4
      fraction = c.face.fraction
      box = c.boxes[0]
      first = c.frames[0]
      f = faces("\(exampleVideo("single_face.mp4"))", frame: first)
      face = f[0].box
      """)
    let g = session.interpreter.globals
    #expect(g["fraction"] == .number(1))
    func numbers(_ v: Value?) -> [Double] {
      guard case .list(let xs)? = v else { return [] }
      return xs.compactMap { if case .number(let x) = $0 { x } else { nil } }
    }
    // The crop box is x, y, w, h; the face x0, y0, x1, y1.
    let crop = numbers(g["box"]), face = numbers(g["face"])
    #expect(crop.count == 4 && face.count == 4)
    if crop.count == 4 && face.count == 4 {
      let (cx, cy) = ((face[0] + face[2]) / 2, (face[1] + face[3]) / 2)
      #expect(cx > crop[0] && cx < crop[0] + crop[2] && cy > crop[1] && cy < crop[1] + crop[3])
      #expect(crop[2] >= face[2] - face[0], "the crop holds the whole face width")
    }
  }
}
