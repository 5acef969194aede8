import Foundation
import Testing

@testable import Media

/// Pixel work is bounded by pixels, not by frames or by the frame's shape: a 4096 × 16 video is
/// scanned for faces at 960 × 4 (it was scaled up to 61440 × 240: 40 s and 650 MB). (Ctrl-C's
/// `StopRequest` is one process-wide flag: setting it here would stop every test running beside
/// this one, so the stops are tested through real processes, InterruptedTrainingTests.)
@Suite struct PixelBoundTests {
  /// A real video of `frames` frames of `width` × `height`.
  static func video(width: Int, height: Int, frames: Int) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent(
      "svfap-wide-\(UUID().uuidString).mp4"
    ).path
    let w = try VideoWriter(path: path, width: width, height: height, fps: 25)
    for k in 0..<frames {
      try w.write(rgb: (0..<(width * height * 3)).map { UInt8(truncatingIfNeeded: $0 &+ k) })
    }
    try w.finish()
    return path
  }

  @Test func aWideStripIsScannedAtBoundedSize() throws {
    let path = try Self.video(width: 4096, height: 16, frames: 4)
    defer { unlink(path) }
    let r = try VideoReader(path: path)
    let (w, h) = r.detectionSize
    #expect(w * h <= 4 * 240 * 240 && w == 960, "scanned at \(w) x \(h)")
    let (tw, th) = r.trackSize
    #expect(tw * th <= 4 * 160 * 160 && tw == 640, "tracked at \(tw) x \(th)")
    // The ordinary shape keeps its short side.
    let tall = try VideoReader(path: try Self.video(width: 64, height: 48, frames: 2))
    #expect(tall.detectionSize == (320, 240))
  }
}
