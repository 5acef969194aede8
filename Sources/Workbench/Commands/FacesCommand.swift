import Faces
import Foundation
import Script
import Tools

/// `faces`: MTCNN's faces in an image or a video frame.
struct FindFaces: SessionCommand {
  unowned let session: Session
  let declaration = CommandDeclaration(
    "faces", topic: "video",
    summary:
      """
      The faces MTCNN finds in an image or one frame of a video (facenet-pytorch 2.6.0's detector \
      and weights): box [x0, y0, x1, y1], score and five landmarks (eyes, nose, mouth corners) in \
      source pixels, largest first; show draws them on the frame.
      """,
    params: [
      .positional("path", .string, "an image, a video file or a folder of frames"),
      .option("frame", .integer, "the frame (0-based; an image is frame 0)", default: .number(0))
        .within(Limits.index),
    ],
    returns: "list of records {box, score, landmarks, source, frame}",
    example: "f = faces(\"examples/media/single_face.mp4\", frame: 30)")

  func run(_ a: Arguments, in interp: Interpreter) throws -> Value {
    let path = try session.existingFile(a), frame = try a.int("frame")
    let result = try a.located { try FaceSearch.faces(in: path, frame: frame) }
    return .list(result.faces.map { Self.record($0, source: path, frame: frame) })
  }

  /// A face as the language's record.
  static func record(_ f: DetectedFace, source: String, frame: Int) -> Value {
    func r(_ x: Double) -> Value { .number((x * 1000).rounded() / 1000) }
    return .record(
      Record([
        ("box", .list(f.box.map(r))), ("score", .number(f.score)),
        ("landmarks", .list(f.landmarks.map { .list($0.map(r)) })), ("source", .string(source)),
        ("frame", .number(Double(frame))),
      ]))
  }
}
