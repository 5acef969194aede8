import Foundation

/// A face detector the face crop can use: the main face of an RGB frame.
public protocol FaceFinder: Sendable {
  /// The main face of a frame (RGB, height × width × 3), nil when there is none; in its pixels.
  func mainFace(rgb: [UInt8], width: Int, height: Int) throws -> HaarCascade.Face?
  /// Every face of a frame, the main one first.
  func allFaces(rgb: [UInt8], width: Int, height: Int) throws -> [HaarCascade.Face]
  /// Its name (cache keys, messages).
  var name: String { get }
}

extension FaceFinder {
  /// The main face only (detectors that find one).
  public func allFaces(rgb: [UInt8], width: Int, height: Int) throws -> [HaarCascade.Face] {
    try mainFace(rgb: rgb, width: width, height: height).map { [$0] } ?? []
  }
}

extension HaarCascade: FaceFinder {
  /// The face with the most support, at least a sixth of the short side, on the grey frame.
  public func mainFace(rgb: [UInt8], width w: Int, height h: Int) throws -> HaarCascade.Face? {
    try allFaces(rgb: rgb, width: w, height: h).first
  }

  /// Every face at least a sixth of the short side, the most supported first.
  public func allFaces(rgb: [UInt8], width w: Int, height h: Int) throws -> [HaarCascade.Face] {
    var gray = [UInt8](repeating: 0, count: w * h)
    for p in 0..<min(w * h, rgb.count / 3) {
      let r: Int = 299 * Int(rgb[3 * p]), g: Int = 587 * Int(rgb[3 * p + 1]),
        b: Int = 114 * Int(rgb[3 * p + 2])
      gray[p] = UInt8(Swift.min(255, (r + g + b) / 1000))
    }
    return detect(gray: gray, width: w, height: h, minSize: min(w, h) / 6)
  }

  /// "haar".
  public var name: String { "haar" }
}

/// The detectors by name. MTCNN's networks are read by a layer above (Tools, which knows
/// checkpoints), which registers it here at start; without it `.mtcnn` is an error saying so.
public enum FaceDetectors {
  /// Which detector finds faces for `crop: "face"`.
  public enum Kind: String, Sendable, CaseIterable {
    /// The OpenCV Haar cascade (frontal faces; fast, misses turned heads).
    case haar
    /// MTCNN (facenet-pytorch's weights): a CNN cascade with landmarks.
    case mtcnn
  }

  nonisolated(unsafe) private static var mtcnnProvider: (@Sendable () throws -> any FaceFinder)?
  private static let lock = NSLock()

  /// Registers how MTCNN is made (once, at start).
  public static func registerMTCNN(_ make: @escaping @Sendable () throws -> any FaceFinder) {
    lock.lock()
    mtcnnProvider = make
    lock.unlock()
  }

  /// The detector of a kind.
  public static func finder(_ kind: Kind) throws -> any FaceFinder {
    switch kind {
    case .haar: return try HaarCascade.shared()
    case .mtcnn:
      lock.lock()
      let make = mtcnnProvider
      lock.unlock()
      guard let make else {
        throw MediaError("mtcnn", "MTCNN is not available in this program; use detector: \"haar\"")
      }
      return try make()
    }
  }
}
