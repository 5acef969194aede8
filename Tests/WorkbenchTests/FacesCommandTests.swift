import Foundation
import Media
import SVFAP
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

  /// `svfap clip --crop face` crops as `load` does (MTCNN by default, `--align`) and writes what
  /// it did into the file's metadata; `--align` without a face crop is a usage error.
  @Test func svfapClipWritesAnAlignedFaceClip() throws {
    let dir = try scratchFolder("clip-cli")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    func svfapClip(_ extra: [String]) throws -> Int32 {
      var status: Int32 = 0
      waitpid(
        try spawnProcess(
          REPLTests.svfap,
          ["clip", exampleVideo("single_face.mp4"), "--frames", "2", "-o", dir + "/c.safetensors"]
            + extra, stdout: dir + "/out.txt"), &status, 0)
      return (status >> 8) & 0xFF
    }
    #expect(try svfapClip(["--crop", "face", "--align"]) == 0)
    let file = try SafeTensorsFile(path: dir + "/c.safetensors")
    #expect(file.metadata["crop"] == "aligned face" && file.metadata["detector"] == "mtcnn")
    #expect(try file.tensor("clip").shape == [1, 3, 2, 160, 160])
    #expect(try svfapClip(["--crop", "center", "--align"]) == 64)
    #expect(try svfapClip(["--crop", "face", "--detector", "dlib"]) == 64)
    #expect(try svfapClip(["--crop", "face", "--face", "-1"]) == 64)
    #expect(try svfapClip(["--crop", "face", "--face", "center"]) == 0)
  }

  /// Manifest commands take `align: true` as `load` does (every manifest command shares the
  /// option): the clips are aligned and say so; without a face crop or with the cascade it is a
  /// located error naming what it goes with.
  @Test func manifestClipsAlign() throws {
    let dir = try scratchFolder("clips-align")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try ("path\n" + exampleVideo("single_face.mp4") + "\n").write(
      toFile: dir + "/rows.csv", atomically: true, encoding: .utf8)
    let session = quietSession(in: dir)
    try session.interpreter.run(
      """
      xs = clips("rows.csv", crop: "face", frames: 2, align: true)
      ys = clips("rows.csv", crop: "face", frames: 2)
      """)
    guard case .list(let xs)? = session.interpreter.globals["xs"],
      case .list(let ys)? = session.interpreter.globals["ys"],
      case .handle(let x as ClipHandle)? = xs.first, case .handle(let y as ClipHandle)? = ys.first
    else {
      Issue.record("no clips")
      return
    }
    #expect(x.clip.aligned && !y.clip.aligned)
    #expect(x.summary.contains("aligned face crop (mtcnn)"), "\(x.summary)")
    for bad in ["crop: \"center\"", "crop: \"face\", detector: \"haar\""] {
      do {
        try session.interpreter.run("clips(\"rows.csv\", \(bad), align: true)")
        Issue.record("align: true with \(bad) went on")
      } catch {
        #expect("\(error)".contains("align: true goes with crop: \"face\""), "\(error)")
        #expect("\(error)".contains("1:"), "located: \(error)")
      }
    }
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

  /// A video with two people side by side (two example videos, each at 320 × 180): two faces are
  /// tracked, the load says which it took and how to take the other, and face: picks.
  @Test func twoFacesTrackedAndChosen() throws {
    let dir = try scratchFolder("two-faces")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let (left, right) = (
      try VideoReader(path: exampleVideo("single_face.mp4")),
      try VideoReader(path: exampleVideo("WolfgangLanger_Pexels.mp4"))
    )
    let a = try left.frames(Array(0..<40), width: 320, height: 180)
    let b = try right.frames(Array(0..<40), width: 320, height: 180)
    let writer = try VideoWriter(path: dir + "/two.mp4", width: 640, height: 180)
    for (fa, fb) in zip(a, b) {
      var rgb = [UInt8](repeating: 0, count: 640 * 180 * 3)
      for y in 0..<180 {
        for x in 0..<320 {
          for c in 0..<3 {
            rgb[(y * 640 + x) * 3 + c] = fa[(y * 320 + x) * 3 + c]
            rgb[(y * 640 + 320 + x) * 3 + c] = fb[(y * 320 + x) * 3 + c]
          }
        }
      }
      try writer.write(rgb: rgb)
    }
    try writer.finish()
    let session = quietSession(in: dir)
    var out: [String] = []
    session.interpreter.output = { out.append($0) }
    try session.interpreter.run(
      """
      big = load "two.mp4" crop: "face" detector: "mtcnn" frames: 4 stride: 8
      other = load "two.mp4" crop: "face" detector: "mtcnn" frames: 4 stride: 8 face: 1
      x_big = big.boxes[0][0]
      x_other = other.boxes[0][0]
      """)
    #expect(out.contains { $0.contains("2 faces tracked in two.mp4; took the largest") })
    guard case .number(let xBig)? = session.interpreter.globals["x_big"],
      case .number(let xOther)? = session.interpreter.globals["x_other"]
    else {
      Issue.record("no boxes")
      return
    }
    #expect(
      (xBig < 320) != (xOther < 320), "the two choices crop different people: \(xBig), \(xOther)")
    do {
      try session.interpreter.run("load \"two.mp4\" crop: \"face\" detector: \"mtcnn\" face: 2")
      Issue.record("a third face was taken")
    } catch { #expect("\(error)".contains("face: 2 asks for a face that was not tracked")) }
  }
}
