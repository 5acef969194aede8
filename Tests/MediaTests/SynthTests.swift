import Foundation
import Testing

@testable import Datasets
@testable import Media
@testable import Tensor

/// Writing real video files with libavcodec (MPEG-4 in .avi, H.264 and HEVC) and the synthetic
/// faces.
@Suite struct SynthTests {
  func tempDir() throws -> String {
    let d = FileManager.default.temporaryDirectory.appendingPathComponent(
      "svfap-synth-\(UUID().uuidString)"
    ).path
    try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
    return d
  }

  @Test(arguments: [
    ("mpeg4", "avi"), ("h264", "mp4"), ("hevc", "mov"), ("h264", "flv"), ("vp8", "webm"),
  ])
  func writtenVideosDecodeBack(codec: String, ext: String) throws {
    let path = try tempDir() + "/ramp.\(ext)"
    let w = VideoWriter.self
    let writer = try w.init(path: path, width: 64, height: 48, fps: 25, codec: codec)
    // Frame k: a flat grey level 20 + 10k, so decoded frames can be told apart.
    for k in 0..<20 {
      try writer.write(rgb: [UInt8](repeating: UInt8(20 + 10 * k), count: 64 * 48 * 3))
    }
    try writer.finish()
    let r = try VideoReader(path: path)
    #expect(r.info.codec == codec && r.info.width == 64 && r.info.height == 48)
    #expect(r.info.frameCount == 20 || !r.info.frameCountExact)
    let frames = try r.frames([0, 10, 19], width: 64, height: 48)
    for (k, f) in zip([0, 10, 19], frames) {
      let mean = Double(f.map(Int.init).reduce(0, +)) / Double(f.count)
      #expect(abs(mean - Double(20 + 10 * k)) < 4, "\(codec) frame \(k): mean \(mean)")
    }
  }

  @Test func syntheticDatasetHasVideosAndManifests() throws {
    let dir = try tempDir()
    let n = try SyntheticFaces.writeDataset(
      to: dir, identities: 2, clipsPerExpression: 1, frames: 20, size: 64, seed: 3)
    #expect(n == 14)
    let classes = try String(contentsOfFile: dir + "/expressions.csv", encoding: .utf8).split(
      separator: "\n")
    #expect(classes.count == 15 && classes[0] == "path,label,identity")
    #expect(
      Set(classes.dropFirst().map { $0.split(separator: ",")[1] })
        == Set((0..<7).map { Substring(String($0)) }))
    let traits = try String(contentsOfFile: dir + "/traits.csv", encoding: .utf8).split(
      separator: "\n")
    #expect(
      traits[1].split(separator: ",").dropFirst().prefix(5).allSatisfy {
        (0...1).contains(Double($0)!)
      })
    // Expressions differ: the happy and sad clips of one identity are different pictures.
    let a = try VideoReader(path: dir + "/videos/id00_happy_00.mp4").frames(
      [10], width: 64, height: 64)[0]
    let b = try VideoReader(path: dir + "/videos/id00_sad_00.mp4").frames(
      [10], width: 64, height: 64)[0]
    #expect(zip(a, b).filter { abs(Int($0) - Int($1)) > 40 }.count > 20)
  }
}

/// Frame-folder checks (the augmentations have their own suite, AugmentTests).
@Suite struct TransformTests {
  @Test func frameFolderGapsAndBadImagesAreErrors() throws {
    let src = VideoReaderTests.media.appendingPathComponent("face_frames").path
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
      "svfap-gap-\(UUID().uuidString)"
    ).path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    try FileManager.default.copyItem(atPath: src + "/00001.jpg", toPath: dir + "/00001.jpg")
    try FileManager.default.copyItem(atPath: src + "/00002.jpg", toPath: dir + "/00002.jpg")
    try FileManager.default.copyItem(atPath: src + "/00003.jpg", toPath: dir + "/00004.jpg")
    #expect { try VideoReader(path: dir) } throws: {
      "\($0)".contains("jumps from 2 to 4") && "\($0)".contains(dir)
    }
    try Data("not a jpeg".utf8).write(to: URL(fileURLWithPath: dir + "/00003.jpg"))
    var every = ClipSpec()
    (every.frames, every.stride) = (4, 1)
    #expect { try VideoReader(path: dir).clip(every, start: 0) } throws: {
      "\($0)".contains("00003.jpg")
    }
  }
}
