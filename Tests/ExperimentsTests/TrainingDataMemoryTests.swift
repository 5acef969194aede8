import Media
import Testing

@testable import Experiments

/// A manifest too large to keep in memory is refused before any video is decoded, with the numbers
/// and the way out (streaming); one that fits passes.
@Suite struct TrainingDataMemoryTests {
  @Test func aManifestTooLargeForMemoryIsRefusedBeforeDecoding() throws {
    let spec = ClipSpec()  // 16 frames of 160 x 160: 4.9 MB per clip in Float32
    let clip = 4.0 * 16 * 3 * 160 * 160
    try TrainingData.checkMemory(rows: 100, views: 2, spec: spec, available: 200 * clip / 0.75)
    do {
      try TrainingData.checkMemory(rows: 101, views: 2, spec: spec, available: 200 * clip / 0.75)
      Issue.record("202 clips passed with room for 200")
    } catch {
      let text = "\(error)"
      #expect(text.contains("101 videos × 2 views") && text.contains("stream: true"), "\(text)")
    }
    // Unknown memory: no check.
    try TrainingData.checkMemory(rows: 1_000_000, views: 64, spec: spec, available: nil)
  }
}
