import Foundation
import Testing

@testable import Script
@testable import Workbench

/// Finding 6 of issue 28: `clips(…, crop: "face")` of a row whose clip is mostly a title card said
/// nothing (load warns), and `avoid_cuts: true` on face_noface.mov took a window with a face on
/// 0 % of its frames. Now every manifest command with a face crop checks each video (one summary
/// line, on_bad_face: warn | skip | stop) and avoid_cuts takes a window within one shot that shows
/// the face.
@Suite(.serialized) struct FaceChecksTests {
  @Test func manifestClipsAreFaceCheckedAndAvoidCutsFindsTheFace() throws {
    let dir = try scratchFolder("face-checks")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let rows = ["single_face.mp4", "face_noface.mov"].map { exampleVideo($0) }
    try ("path\n" + rows.joined(separator: "\n") + "\n").write(
      toFile: dir + "/rows.csv", atomically: true, encoding: .utf8)
    let session = quietSession(in: dir)
    var out: [String] = []
    session.interpreter.output = { out.append($0) }
    try session.interpreter.run(
      """
      kept = len(clips("rows.csv", crop: "face", frames: 16, stride: 2))
      left = len(clips("rows.csv", crop: "face", frames: 16, stride: 2, on_bad_face: "skip"))
      """)
    #expect(session.interpreter.globals["kept"] == .number(2))
    #expect(session.interpreter.globals["left"] == .number(1))
    let summaries = out.filter { $0.hasPrefix("face crop: 1 of 2 videos doubtful") }
    #expect(summaries.count == 2)
    #expect(summaries.first?.contains("face_noface.mov (a face on 13 %") == true)
    #expect(summaries.last?.contains("left out") == true)
    do {
      try session.interpreter.run(
        "clips(\"rows.csv\", crop: \"face\", frames: 16, stride: 2, on_bad_face: \"stop\")")
      Issue.record("on_bad_face: \"stop\" went on")
    } catch {
      #expect("\(error)".contains("face_noface.mov") && "\(error)".contains("on_bad_face"))
    }
    try session.interpreter.run(
      """
      c = load "\(rows[1])" crop: "face" avoid_cuts: true frames: 16 stride: 2
      fraction = c.face.fraction
      cuts = len(c.face.cuts)
      """)
    #expect(session.interpreter.globals["cuts"] == .number(0))
    if case .number(let f)? = session.interpreter.globals["fraction"] {
      #expect(f >= 0.8)
    } else {
      Issue.record("no face report")
    }
  }
}
