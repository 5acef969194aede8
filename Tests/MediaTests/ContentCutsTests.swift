import Foundation
import Testing

@testable import Media

/// The adaptive content detector (PySceneDetect's rule over every decoded frame) on made frames and
/// on the example with a hard cut: PySceneDetect 0.7.2's AdaptiveDetector finds that cut at decoded
/// frame 73 too (it reports 64, counting frames from timestamps at the file's average rate), and no
/// cut in the other examples.
@Suite struct ContentCutsTests {
  /// Whether scripts/fetch-examples placed the example videos.
  static let examplesFetched = FileManager.default.fileExists(
    atPath: VideoReaderTests.media.appendingPathComponent("face_noface.mov").path)

  func frame(_ r: UInt8, _ g: UInt8, _ b: UInt8, noise: Int = 0, seed: Int = 0) -> [UInt8] {
    (0..<(16 * 9)).flatMap { p -> [UInt8] in
      let n = noise == 0 ? 0 : (p * 7919 + seed * 104_729) % (2 * noise + 1) - noise
      return [r, g, b].map { UInt8(clamping: Int($0) + n) }
    }
  }

  @Test func aHardCutAndNoCutInNoiseOrAFade() {
    let shotA = (0..<10).map { frame(200, 40, 40, noise: 3, seed: $0) }
    let shotB = (0..<10).map { frame(30, 60, 220, noise: 3, seed: $0 + 10) }
    #expect(ContentCuts.cuts(shotA + shotB, width: 16, height: 9) == [10])
    #expect(ContentCuts.cuts(shotA, width: 16, height: 9).isEmpty)
    // A slow fade (green to blue: hue, as PySceneDetect's, has no wrap-around) changes every
    // frame a little: no cut.
    let fade = (0..<30).map { (k: Int) -> [UInt8] in
      let green = UInt8(200 - k * 5), blue = UInt8(40 + k * 5)
      return frame(40, green, blue)
    }
    #expect(ContentCuts.cuts(fade, width: 16, height: 9).isEmpty)
    #expect(ContentCuts.cuts([], width: 16, height: 9).isEmpty)
    #expect(ContentCuts.cuts([frame(1, 2, 3)], width: 0, height: 9).isEmpty)
  }

  @Test(
    .enabled(if: Self.examplesFetched, "the example media are not fetched (scripts/fetch-examples)")
  )
  func theExamplesCutsAreFound() throws {
    for (name, expected) in [
      ("face_noface.mov", [73]), ("single_face.mp4", []), ("no_face.mp4", []),
    ] {
      let r = try VideoReader(path: VideoReaderTests.media.appendingPathComponent(name).path)
      let (w, h) = ContentCuts.thumbnailSize(width: r.info.width, height: r.info.height)
      let frames = try r.frames(Array(0..<r.info.frameCount), width: w, height: h)
      #expect(ContentCuts.cuts(frames, width: w, height: h) == expected, "\(name)")
    }
  }

  /// A face track holds the video's cuts (found in overlapping chunks, so a cut at a chunk's edge
  /// is not lost) and the scans that saw the face; a frame counts as showing the face when a scan
  /// beside it saw the face with no cut between.
  @Test(
    .enabled(if: Self.examplesFetched, "the example media are not fetched (scripts/fetch-examples)")
  )
  func aTrackHoldsTheCutsAndWhereTheFaceShows() throws {
    let r = try VideoReader(
      path: VideoReaderTests.media.appendingPathComponent("face_noface.mov").path)
    #expect(try r.wholeVideoCuts() == [73])
    let track = try r.faceTrack(detector: try HaarCascade.shared())
    #expect(track.cuts == [73])
    let seen = try #require(track.seen)
    #expect(seen.contains(64) && !seen.contains { $0 >= 80 })
    #expect(track.detectedNear(66) && track.detectedNear(70))
    #expect(!track.detectedNear(73) && !track.detectedNear(120))
    // A cut one frame past a scan: the frame after it does not borrow the scan's face.
    let made = FaceTrack(
      frameCount: 32, width: 10, height: 10, every: 8, boxes: [], covered: [], faces: nil,
      seen: [0, 8, 24], cuts: [9])
    #expect(made.detectedNear(7) && made.detectedNear(8) && !made.detectedNear(9))
    #expect(!made.detectedNear(15) && made.detectedNear(17) && made.detectedNear(31))
  }
}
