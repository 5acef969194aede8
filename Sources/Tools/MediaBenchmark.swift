import Datasets
import Foundation
import Media
import Tensor

/// `svfap bench media`: clips per second for decode + sample + crop of one 16 × 160 clip from each
/// example file — center crop (resize only, the same work PyAV does in the baseline) and face crop.
public enum MediaBenchmark {
  /// One file's figures.
  public struct Figure: Sendable {
    /// File name.
    public let file: String
    /// Clips/s, decode + sample + resize/center crop.
    public let resizeClipsPerSecond: Double
    /// Clips/s, decode + sample + face crop.
    public let faceClipsPerSecond: Double
    /// Clips/s, decode + sample + face crop with the video's face track cached (random starts).
    public let trackedFaceClipsPerSecond: Double
    /// Clips/s, decode + sample + face crop by MTCNN on the sampled frames (nil without its
    /// weights).
    public let mtcnnFaceClipsPerSecond: Double?
    /// Clips/s, decode + sample + aligned face crop from the video's MTCNN track (landmarks
    /// included) cached, random starts (nil without MTCNN's weights or a face).
    public let alignedTrackedClipsPerSecond: Double?
    /// Clips/s from the video face-cropped ahead by `dataset prepare --crops` (random starts,
    /// the crops read as they are).
    /// nil when the video has no face.
    public let preparedClipsPerSecond: Double?
    /// Frame indices used (for the baseline).
    public let indices: [Int]
    /// Resize target (width, height) before the crop.
    public let resized: (Int, Int)
  }

  /// Seconds per clip over `clips` calls of `body` (its total time over the count).
  static func secondsPerClip(clips: Int, _ body: () throws -> Void) rethrows -> Double {
    let t0 = monotonicSeconds()
    for _ in 0..<clips { try body() }
    return (monotonicSeconds() - t0) / Double(clips)
  }

  /// Measures every file (median of `runs`; the randomly started figures over 4 × `runs` clips).
  public static func run(files: [String], runs: Int = 5) throws -> [Figure] {
    let cascade = try HaarCascade.shared()
    return try files.map { path in
      let spec = ClipSpec()
      let probe = try VideoReader(path: path)
      let clip = try probe.clip(spec)
      func median(_ body: () throws -> Void) rethrows -> Double {
        var t: [Double] = []
        for _ in 0..<max(runs, 1) {
          let t0 = monotonicSeconds()
          try body()
          t.append(monotonicSeconds() - t0)
        }
        return t.sorted()[t.count / 2]
      }
      let resize = try median { _ = try VideoReader(path: path).clip(spec) }
      let face = try median {
        _ = try VideoReader(path: path).faceClip(spec, detector: cascade, fallbackToCenter: true)
      }
      let mtcnn = try? MTCNNFinder(mtcnn: MTCNNWeights.shared())
      let mtcnnFace = try mtcnn.map { finder in
        try median {
          _ = try VideoReader(path: path).faceClip(spec, detector: finder, fallbackToCenter: true)
        }
      }
      let track = try probe.faceTrack(detector: cascade)
      var rng = SplitMix64(seed: 3)
      /// Seconds per clip of `read` on a fresh reader of `file` at random starts. Random starts
      /// cost different run-ups from their key frames: the rate over 4 × `runs` clips.
      func perRandomClip(_ file: String, _ read: (VideoReader, Int) throws -> Void) throws
        -> Double
      {
        try secondsPerClip(clips: 4 * max(runs, 1)) {
          let reader = try VideoReader(path: file)
          try read(
            reader,
            ClipSampler.randomStart(
              frames: spec.frames, stride: spec.stride, frameCount: reader.info.frameCount,
              rng: &rng))
        }
      }
      let tracked = try perRandomClip(path) { reader, start in
        _ = try reader.faceClip(
          spec, start: start, detector: cascade, fallbackToCenter: true, track: track)
      }
      // Aligned crops read the MTCNN track's landmarks (no detection per clip).
      var alignedSpec = spec
      (alignedSpec.align, alignedSpec.detector) = (true, .mtcnn)
      let alignedTrack = try mtcnn.map { try probe.faceTrack(detector: $0) }
      let aligned = try mtcnn.flatMap { finder -> Double? in
        guard let alignedTrack, alignedTrack.hasFace else { return nil }
        return try perRandomClip(path) { reader, start in
          _ = try reader.faceClip(
            alignedSpec, start: start, detector: finder, fallbackToCenter: true, track: alignedTrack
          )
        }
      }
      let prepared = FileManager.default.temporaryDirectory.appendingPathComponent(
        "svfap-bench-crops-\(getpid())-\(UUID().uuidString).mp4"
      ).path
      defer { unlink(prepared) }
      var fromCrops: Double? = nil
      if track.hasFace {
        try probe.writeFaceCrops(track: track, to: prepared, size: spec.size)
        fromCrops = try perRandomClip(prepared) { reader, start in
          _ = try reader.clip(spec, start: start)
        }
      }
      let scale = Double(spec.size) / Double(min(probe.info.width, probe.info.height))
      let size = (
        max(spec.size, Int((Double(probe.info.width) * scale).rounded())),
        max(spec.size, Int((Double(probe.info.height) * scale).rounded()))
      )
      return Figure(
        file: (path as NSString).lastPathComponent, resizeClipsPerSecond: 1 / resize,
        faceClipsPerSecond: 1 / face, trackedFaceClipsPerSecond: 1 / tracked,
        mtcnnFaceClipsPerSecond: mtcnnFace.map { 1 / $0 },
        alignedTrackedClipsPerSecond: aligned.map { 1 / $0 },
        preparedClipsPerSecond: fromCrops.map { 1 / $0 },
        indices: clip.frameIndices, resized: size)
    }
  }

  /// The PyAV baseline script: the same files, the same frame indices, decode + resize (to_ndarray
  /// with the same size) + the same center crop; prints clips/s per file as JSON. Run by `svfap
  /// bench media`.
  public static let pyavScript = """
    import av, json, sys, time
    jobs = json.loads(sys.argv[1])
    out = {}
    for job in jobs:
        times = []
        for _ in range(job["runs"]):
            t0 = time.perf_counter()
            want, last = set(job["indices"]), max(job["indices"])
            with av.open(job["path"]) as c:
                s = c.streams.video[0]
                s.thread_type = "AUTO"
                got = {}
                for i, f in enumerate(c.decode(s)):
                    if i in want:
                        a = f.to_ndarray(format="rgb24", width=job["w"], height=job["h"])
                        x0, y0 = (job["w"] - 160) // 2, (job["h"] - 160) // 2
                        got[i] = a[y0:y0 + 160, x0:x0 + 160]
                    if i >= last:
                        break
            times.append(time.perf_counter() - t0)
        times.sort()
        out[job["file"]] = 1 / times[len(times) // 2]
    print(json.dumps(out))
    """

  /// Clips/s of the path `train` streams a manifest through: `ClipLoader` (two decoding worker
  /// threads, a prefetch buffer) over `files` (repeated to 32 rows an epoch) with face crops, random
  /// starts, the face tracks cached (computed here first) and every clip's face report, for
  /// `seconds` of loading (at least `minimum` clips).
  public static func streamed(
    files: [String], detector: FaceDetectors.Kind = .haar, seconds: Double = 10, minimum: Int = 16
  ) throws -> Double {
    var spec = ClipSpec()
    (spec.crop, spec.faceReport, spec.detector) = (.face, true, detector)
    let finder = try FaceDetectors.finder(detector)
    for path in files {  // the tracks, as a first epoch (or dataset prepare) leaves them
      _ = try FaceTrackCache.shared.track(for: try VideoReader(path: path), detector: finder)
    }
    let here = FileManager.default.currentDirectoryPath
    // An epoch of 32 rows (the files repeated), as a dataset's manifest lists many videos.
    let rows = files.map { ManifestRow(path: $0.hasPrefix("/") ? $0 : here + "/" + $0, labels: []) }
    let manifest = Manifest(
      labelNames: [], rows: (0..<32).map { rows[$0 % rows.count] })
    var loaded = 0, epoch: UInt64 = 0
    let t0 = monotonicSeconds()
    while loaded < minimum || monotonicSeconds() - t0 < seconds {
      let loader = ClipLoader(
        manifest: manifest, root: "/", spec: spec, batch: 4, shuffle: true, seed: epoch,
        randomStart: true)
      let before = loaded
      while let b = try loader.next(limit: 4) { loaded += b.clips.shape[0] }
      if loaded == before {
        throw MediaError(
          "bench", "no clip loaded: \(loader.skipped.map(\.error).joined(separator: "; "))")
      }
      epoch += 1
    }
    return Double(loaded) / (monotonicSeconds() - t0)
  }
}
