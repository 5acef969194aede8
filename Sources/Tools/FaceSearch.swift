import Faces
import Foundation
import Media

/// MTCNN on one frame of a video or image file, at the source's own size: what `svfap faces` and
/// the language's `faces` return.
public enum FaceSearch {
  /// A frame's faces with the frame they were found in.
  public struct Result: Sendable {
    /// The frame (RGB, height × width × 3) and its size.
    public let rgb: [UInt8], width: Int, height: Int
    /// The faces, largest first.
    public let faces: [DetectedFace]
  }

  /// The faces of frame `frame` (0-based decode index; an image file is frame 0) of `path`.
  public static func faces(in path: String, frame: Int) throws -> Result {
    let reader = try VideoReader(path: path)
    let (w, h) = (reader.info.width, reader.info.height)
    guard frame >= 0, frame < max(reader.info.frameCount, 1) else {
      throw FaceError(
        "frame \(frame) is outside \(MediaError.printable(path)) (frames 0..<\(reader.info.frameCount))"
      )
    }
    guard w <= MTCNN.largestSide, h <= MTCNN.largestSide else {
      throw FaceError(
        "\(MediaError.printable(path)) is \(w) × \(h): faces are searched in frames of at most \(MTCNN.largestSide) pixels a side"
      )
    }
    guard let rgb = try reader.frames([frame], width: w, height: h).first else {
      throw FaceError("frame \(frame) of \(MediaError.printable(path)) could not be decoded")
    }
    return Result(
      rgb: rgb, width: w, height: h,
      faces: try MTCNNWeights.shared().detect(rgb: rgb, width: w, height: h))
  }

  /// A face as the JSON object `svfap faces` prints (three decimals).
  public static func json(_ f: DetectedFace) -> [String: Any] {
    func r(_ x: Double) -> Double { (x * 1000).rounded() / 1000 }
    return [
      "box": f.box.map(r), "score": (f.score * 1e6).rounded() / 1e6,
      "landmarks": f.landmarks.map { $0.map(r) },
    ]
  }
}
