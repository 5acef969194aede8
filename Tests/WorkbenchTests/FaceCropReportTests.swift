import Foundation
import TestSupport
import Testing

@testable import Media
@testable import Script
@testable import Workbench

/// Face crops that report on themselves, on videos made here with the project's own writer from
/// the example media: a clip across a cut between two people, a clip that is mostly a title card,
/// and a clean clip, through `load` as a person calls it.
@Suite(.serialized)
struct FaceCropReportTests {
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
    "svfap-facecrop-\(UUID().uuidString)"
  ).path

  /// Writes `frames` (RGB, 320 × 240) as an H.264 video.
  func write(_ name: String, _ frames: [[UInt8]]) throws -> String {
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let path = "\(dir)/\(name)"
    let w = try VideoWriter(path: path, width: 320, height: 240, fps: 25)
    for f in frames { try w.write(rgb: f) }
    try w.finish()
    return path
  }

  func frames(of video: String, _ range: Range<Int>) throws -> [[UInt8]] {
    try VideoReader(path: exampleVideo(video)).frames(
      Array(range), width: 320, height: 240)
  }

  /// A title card: a dark blue background with orange blocks where the letters would be.
  func titleCard() -> [UInt8] {
    var rgb = [UInt8](repeating: 0, count: 320 * 240 * 3)
    for y in 0..<240 {
      for x in 0..<320 {
        let letter = y >= 100 && y < 140 && x >= 40 && x < 280 && (x / 20) % 2 == 0
        let p = (y * 320 + x) * 3
        (rgb[p], rgb[p + 1], rgb[p + 2]) = letter ? (235, 140, 30) : (20, 50, 110)
      }
    }
    return rgb
  }

  /// Runs `source` in a fresh session; its printed lines.
  func run(_ source: String) throws -> (Session, [String]) {
    let session = Session()
    var lines: [String] = []
    session.interpreter.output = { lines.append($0) }
    try session.interpreter.run(source)
    return (session, lines)
  }

  @Test func aCutATitleCardAndACleanClip() throws {
    defer { try? FileManager.default.removeItem(atPath: dir) }
    // Two people: 40 frames of one, 80 of the other.
    let cut = try write(
      "cut.mp4",
      try frames(of: "single_face.mp4", 0..<40) + frames(of: "WolfgangLanger_Pexels.mp4", 100..<180)
    )
    // A few frames of a face, then a title card.
    let card = try write(
      "title-card.mp4",
      try frames(of: "single_face.mp4", 0..<12) + Array(repeating: titleCard(), count: 68))

    let (s1, cutLines) = try run("c = load(\"\(cut)\", crop: \"face\", start: 10)")
    let cutWarnings = cutLines.filter { $0.hasPrefix("warning: cut.mp4: a shot change") }
    #expect(cutWarnings.count == 1, "\(cutLines)")
    #expect(cutWarnings.first?.contains("between frames 38 and 42") == true, "\(cutLines)")
    #expect(s1.interpreter.globals["c"].flatMap { Self.faceField($0, "cuts") } != .list([]))

    // avoid_cuts takes the clip after the cut, which then reports nothing.
    let (s2, avoidLines) = try run(
      "c = load(\"\(cut)\", crop: \"face\", start: 10, avoid_cuts: true)\nprint c.frames[0]")
    #expect(avoidLines.contains { $0.contains("taking frames from 42") }, "\(avoidLines)")
    #expect(!avoidLines.contains { $0.hasPrefix("warning:") }, "\(avoidLines)")
    #expect(avoidLines.last == "42")
    #expect(s2.interpreter.globals["c"].flatMap { Self.faceField($0, "warnings") } == .list([]))

    let (_, cardLines) = try run("c = load(\"\(card)\", crop: \"face\", start: 0)")
    #expect(
      cardLines.contains { $0.contains("a face was found on 3 of 16 sampled frames") },
      "\(cardLines)")

    // A clean clip of the example video: no warnings, every frame with a face.
    let clean = exampleVideo("single_face.mp4")
    let (s3, cleanLines) = try run("c = load(\"\(clean)\", crop: \"face\")")
    #expect(!cleanLines.contains { $0.hasPrefix("warning:") }, "\(cleanLines)")
    let c = try #require(s3.interpreter.globals["c"])
    #expect(Self.faceField(c, "fraction") == .number(1))
    #expect(Self.faceField(c, "warnings") == .list([]))
  }

  @Test func avoidCutsNeedsTheFaceCrop() throws {
    let clean = exampleVideo("single_face.mp4")
    #expect { try run("c = load(\"\(clean)\", avoid_cuts: true)") } throws: {
      "\($0)".contains("avoid_cuts: true needs crop: \"face\"") && "\($0)".contains("1:")
    }
  }

  @Test func cutsFromHistogramsAndThumbnails() {
    // Frames of one flat colour, then another: one cut; the same frame twice: none.
    func flat(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> [UInt8] {
      Array([[UInt8]](repeating: [r, g, b], count: 64 * 48).joined())
    }
    let a = flat(200, 150, 120), b = flat(20, 50, 110)
    #expect(ShotCuts.between([a, a, b, b], width: 64, height: 48) == [2])
    #expect(ShotCuts.between([a, a, a], width: 64, height: 48) == [])
    #expect(
      FaceCropReport.group([3, 4, 7]) == [
        FaceCropReport.Cut(before: 2, after: 4), FaceCropReport.Cut(before: 6, after: 7),
      ])
  }

  static func faceField(_ v: Value, _ key: String) -> Value? {
    guard case .handle(let h as ClipHandle) = v, case .record(let r)? = h.field("face") else {
      return nil
    }
    return r[key]
  }
}
