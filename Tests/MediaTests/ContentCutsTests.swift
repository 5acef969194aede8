import Foundation
import Testing

@testable import Media

/// The adaptive content detector (PySceneDetect's rule over every decoded frame) on made frames and
/// on the example with a hard cut: PySceneDetect 0.7.2's AdaptiveDetector finds that cut at decoded
/// frame 73 too (it reports 64, counting frames from timestamps at the file's average rate), and no
/// cut in the other examples.
@Suite struct ContentCutsTests {
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
    .enabled(
      if: FileManager.default.fileExists(
        atPath: VideoReaderTests.media.appendingPathComponent("face_noface.mov").path),
      "the example media are not fetched (scripts/fetch-examples)"))
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
}
