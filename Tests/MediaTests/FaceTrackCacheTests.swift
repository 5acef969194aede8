import Foundation
import Testing

@testable import Media

/// Face tracks: computed once per video and reused from disk; a stale, truncated, malformed or other-version
/// file is rebuilt, never used; an unwritable folder means no cache and one warning; crops from
/// the track frame the same face as per-clip detection.
@Suite(.serialized) struct FaceTrackCacheTests {
  func media(_ name: String) -> String {
    VideoReaderTests.media.appendingPathComponent(name).path
  }

  /// A fresh folder with a copy of `name` in it.
  func scratch(_ name: String) throws -> (dir: String, video: String) {
    let dir = FileManager.default.temporaryDirectory
      .appendingPathComponent("svfap-tracks-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let video = dir + "/" + name
    try FileManager.default.copyItem(atPath: media(name), toPath: video)
    return (dir, video)
  }

  func files(_ folder: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter {
      $0.hasSuffix(".json")
    }
  }

  @Test func aTrackIsComputedOnceAndReadBack() throws {
    let (dir, video) = try scratch("single_face.mp4")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let detector = try HaarCascade.shared()
    let first = try FaceTrackCache(folder: dir + "/cache").track(
      for: try VideoReader(path: video), detector: detector)
    #expect(first.hasFace && first.boxes.count == first.frameCount)
    #expect(first.covered.filter { $0 }.count > first.frameCount / 2)
    let stored = files(dir + "/cache")
    #expect(stored.count == 1)
    // A new cache (no memory) reads the file: the same track, the file untouched.
    let file = dir + "/cache/" + stored[0]
    let before = try FileManager.default.attributesOfItem(atPath: file)[.modificationDate] as? Date
    usleep(20_000)
    let again = try FaceTrackCache(folder: dir + "/cache").track(
      for: try VideoReader(path: video), detector: detector)
    let after = try FileManager.default.attributesOfItem(atPath: file)[.modificationDate] as? Date
    #expect(again == first && before == after)
  }

  @Test(arguments: ["truncated", "other version", "other content", "a malformed box"])
  func aBadFileIsRebuiltNotUsed(kind: String) throws {
    let (dir, video) = try scratch("single_face.mp4")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let detector = try HaarCascade.shared()
    let cache = dir + "/cache"
    let good = try FaceTrackCache(folder: cache).track(
      for: try VideoReader(path: video), detector: detector)
    let file = cache + "/" + files(cache)[0]
    let text = try String(contentsOfFile: file, encoding: .utf8)
    switch kind {
    case "truncated":
      try String(text.prefix(text.count / 2)).write(toFile: file, atomically: true, encoding: .utf8)
    case "other version":
      let other = text.replacingOccurrences(
        of: "\"version\":\(FaceTrackCache.version)", with: "\"version\":0")
      #expect(other != text)
      try other.write(toFile: file, atomically: true, encoding: .utf8)
    case "a malformed box":  // a row a crop would index past: rebuilt, never read (no trap)
      var json = try #require(
        try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
      var track = try #require(json["track"] as? [String: Any])
      var boxes = try #require(track["boxes"] as? [[Double]])
      boxes[0] = [1, 2]
      track["boxes"] = boxes
      json["track"] = track
      try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: file))
    default:
      // The video changes under the same name: a different content hash, a different file.
      try FileManager.default.removeItem(atPath: video)
      try FileManager.default.copyItem(atPath: media("WolfgangLanger_Pexels.mp4"), toPath: video)
    }
    let rebuilt = try FaceTrackCache(folder: cache).track(
      for: try VideoReader(path: video), detector: detector)
    if kind == "other content" {
      #expect(rebuilt != good && rebuilt.frameCount != good.frameCount)
      #expect(files(cache).count == 2)
    } else {
      #expect(rebuilt == good)
      let data = try #require(FileManager.default.contents(atPath: file))
      #expect(
        (try? JSONDecoder().decode(FaceTrackCache.Entry.self, from: data))?.version
          == FaceTrackCache.version, "the \(kind) file was not rewritten")
    }
  }

  @Test func anUnwritableFolderMeansNoCacheAndOneWarning() throws {
    let detector = try HaarCascade.shared()
    // /proc refuses new folders even to root, as a read-only mount does.
    let cache = FaceTrackCache(folder: "/proc/svfap-face-tracks")
    var warnings: [String] = []
    cache.warn = { warnings.append($0) }
    let reader = try VideoReader(path: media("single_face.mp4"))
    let track = try cache.track(for: reader, detector: detector)
    _ = try FaceTrackCache(folder: "/proc/svfap-face-tracks").track(
      for: try VideoReader(path: media("single_face.mp4")), detector: detector)
    let other = try cache.track(
      for: try VideoReader(path: media("face_noface.mov")), detector: detector)
    #expect(track.hasFace && other.frameCount > 0)
    #expect(warnings.count == 1)
    #expect(warnings.first?.contains("cannot be written") == true)
  }

  @Test func cropsFromTheTrackFrameTheDetectedFace() throws {
    let detector = try HaarCascade.shared()
    let reader = try VideoReader(path: media("single_face.mp4"))
    let track = try reader.faceTrack(detector: detector)
    let spec = ClipSpec()
    let direct = try reader.faceClip(spec, detector: detector)
    let tracked = try reader.faceClip(spec, detector: detector, track: track)
    #expect(tracked.framesWithFace >= 12, "sampled frames between detections")
    // Box centres and sides within 10 % of the face's size of per-clip detection.
    for (a, b) in zip(direct.boxes, tracked.boxes) {
      let side = a[2]
      #expect(abs((a[0] + a[2] / 2) - (b[0] + b[2] / 2)) < 0.1 * side)
      #expect(abs((a[1] + a[3] / 2) - (b[1] + b[3] / 2)) < 0.1 * side)
      #expect(abs(a[2] - b[2]) < 0.1 * side)
    }
  }

  @Test func aPreparedFaceVideoShowsTheSameFaceAsTheOnlineCrop() throws {
    let (dir, video) = try scratch("single_face.mp4")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let detector = try HaarCascade.shared()
    let reader = try VideoReader(path: video)
    let track = try reader.faceTrack(detector: detector)
    let out = dir + "/faces.mp4"
    let written = try reader.writeFaceCrops(track: track, to: out)
    let crops = try VideoReader(path: out)
    #expect(written == reader.info.frameCount)
    #expect(crops.info.width == 160 && crops.info.height == 160)
    #expect(abs(crops.info.frameCount - written) <= 1, "\(crops.info.frameCount) of \(written)")
    // A clip of the prepared video against the same clip cropped online from the track.
    let spec = ClipSpec()
    // Both tensors are held for the whole comparison: a freed tensor's buffer goes back to the
    // buffer cache, where the next tensor of the same size (or another test's) takes it.
    let preparedClip = try crops.clip(spec, start: 8).tensor
    let online = try VideoReader(path: video).faceClip(
      spec, start: 8, detector: detector, track: track
    ).clip.tensor
    defer { withExtendedLifetime((preparedClip, online)) {} }
    let prepared = preparedClip.pointer(Float.self), o = online.pointer(Float.self)
    let perFrame = online.count / 3 / spec.frames
    var diff = 0.0, frames = [Double](repeating: 0, count: spec.frames)
    for i in 0..<online.count {
      let d = Double(abs(prepared[i] - o[i]))
      diff += d
      frames[(i / perFrame) % spec.frames] += d / Double(perFrame * 3)
    }
    diff /= Double(online.count)
    #expect(
      diff < 0.25,
      "mean difference \(diff) (normalized units); per frame \(frames.map { String(format: "%.2f", $0) })"
    )
    // No face: an error naming the file, not an empty video.
    let none = try VideoReader(path: media("no_face.mp4"))
    let empty = try none.faceTrack(detector: detector)
    #expect { try none.writeFaceCrops(track: empty, to: dir + "/none.mp4") } throws: {
      "\($0)".contains("no_face.mp4") && "\($0)".contains("no face")
    }
  }
}
