import Foundation
import Testing

@testable import Media
@testable import Tensor

@Suite struct TmpTimingTests {
  @Test func timings() throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("examples/media")
    for name in ["single_face.mp4", "WolfgangLanger_Pexels.mp4", "face_noface.mov"] {
      let path = root.appendingPathComponent(name).path
      func t(_ body: () throws -> Void) rethrows -> Double {
        let t0 = monotonicSeconds(); for _ in 0..<5 { try body() }; return (monotonicSeconds() - t0) / 5 * 1000
      }
      let open = try t { _ = try VideoReader(path: path) }
      let r = try VideoReader(path: path)
      let n = r.info.frameCount
      let (w, h) = r.detectionSize
      let first = try t { _ = try VideoReader(path: path).frames(Array(stride(from: 0, to: 61, by: 4)), width: w, height: h) }
      let mid = try t { _ = try VideoReader(path: path).frames(Array(stride(from: n/2, to: n/2 + 61, by: 4)).map { min($0, n-1) }, width: w, height: h) }
      let all = try t { _ = try VideoReader(path: path).frames([n - 1], width: 16, height: 16) }
      let decodeOnly = try t { _ = try VideoReader(path: path).frames([60], width: 16, height: 16) }
      let decodeMid = try t { _ = try VideoReader(path: path).frames([min(n/2 + 60, n-1)], width: 16, height: 16) }
      let midStart = try t { _ = try VideoReader(path: path).frames([n/2], width: 16, height: 16) }
      print("TIMING decode to 60: \(decodeOnly) ms; to mid+60: \(decodeMid), to mid \(midStart)")
      print("TIMING \(name) \(n) frames det \(w)x\(h): open \(open) ms, first clip \(first) ms, middle clip \(mid) ms, whole video \(all) ms = \(all / Double(n)) ms/frame")
    }
  }
}
