import Faces
import Foundation
import Media
import SVFAP

/// Where MTCNN's weights live and how they are read: facenet-pytorch 2.6.0's `pnet.pt`, `rnet.pt`
/// and `onet.pt` (legacy torch.save files, read by `TorchCheckpoint` without running code), under
/// `models/mtcnn/` of the repository (`scripts/fetch-mtcnn`) or the folder `SVFAP_MTCNN` names.
public enum MTCNNWeights {
  /// The folder searched.
  public static var folder: String {
    if let dir = ProcessInfo.processInfo.environment["SVFAP_MTCNN"], !dir.isEmpty { return dir }
    return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("models/mtcnn").path
  }

  /// The detector read once per process (nil until asked; an error is not kept, so a fetch
  /// between calls is seen).
  nonisolated(unsafe) private static var cached: MTCNN?
  private static let lock = NSLock()

  /// The detector from `folder`, read once; a missing or corrupt file is an error naming it and
  /// how to fetch it.
  public static func shared() throws -> MTCNN {
    lock.lock()
    defer { lock.unlock() }
    if let cached { return cached }
    let detector = try load(from: folder)
    cached = detector
    return detector
  }

  /// The detector from the three files in `folder`.
  public static func load(from folder: String) throws -> MTCNN {
    func weights(_ name: String) throws -> NetWeights {
      let path = folder + "/" + name
      guard FileManager.default.fileExists(atPath: path) else {
        throw FaceError(
          """
          MTCNN weights: \(path) is missing: run scripts/fetch-mtcnn (scripts/setup does) or set \
          SVFAP_MTCNN to a folder holding pnet.pt, rnet.pt and onet.pt; detector: "haar" works \
          without them
          """)
      }
      do {
        let file = try TorchCheckpoint(path: path)
        return NetWeights(file.tensors.mapValues { ($0.toFloats(), $0.shape) })
      } catch {
        throw FaceError(
          "MTCNN weights: \(path) cannot be read (\(error)): fetch it again with scripts/fetch-mtcnn"
        )
      }
    }
    do {
      return MTCNN(
        pnet: try PNet(try weights("pnet.pt")), rnet: try RNet(try weights("rnet.pt")),
        onet: try ONet(try weights("onet.pt")))
    } catch let e as FaceError where !e.description.hasPrefix("MTCNN weights") {
      throw FaceError(
        "MTCNN weights in \(folder): \(e.description) (fetch them again with scripts/fetch-mtcnn)")
    }
  }
}

/// MTCNN as the face crop's detector: the largest face of a frame.
public struct MTCNNFinder: FaceFinder {
  /// The detector.
  public let mtcnn: MTCNN
  /// The largest face as the crop's box (left, top, width, height).
  public func mainFace(rgb: [UInt8], width: Int, height: Int) throws -> HaarCascade.Face? {
    try allFaces(rgb: rgb, width: width, height: height).first
  }

  /// Every face, largest first, with its landmarks.
  public func allFaces(rgb: [UInt8], width: Int, height: Int) throws -> [HaarCascade.Face] {
    try mtcnn.detect(rgb: rgb, width: width, height: height).map { f in
      HaarCascade.Face(
        x: f.box[0], y: f.box[1], width: f.box[2] - f.box[0], height: f.box[3] - f.box[1],
        neighbors: 0, landmarks: f.landmarks)
    }
  }
  /// "mtcnn".
  public var name: String { "mtcnn" }
}

extension MTCNNWeights {
  /// Makes `detector: "mtcnn"` available to the face crop (its weights read when first used).
  public static func register() {
    FaceDetectors.registerMTCNN { MTCNNFinder(mtcnn: try MTCNNWeights.shared()) }
  }
}
