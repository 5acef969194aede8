import CFFmpeg
import Foundation
import StopRequests

/// The presentation times of a video stream's frames in display order and which are key frames,
/// read once by demuxing the file (no decoding): frame numbers for a stream whose times do not
/// follow its frame numbers (uneven timing, as face_noface.mov's), so a read can seek into it and
/// still name its frames as decoding from the start does. Kept per file (path, size, modification
/// time) for the process, a bounded number of files.
struct FrameTimes: Sendable {
  /// Frame n's presentation time (the stream's time base), ascending.
  let times: [Int64]
  /// The numbers of the key frames, ascending.
  let keys: [Int]

  /// The number of the frame shown at `pts`: its place among the times (the last frame at or
  /// before it when no frame has exactly that time).
  func frame(at pts: Int64) -> Int {
    var lo = 0, hi = times.count  // first index whose time exceeds pts
    while lo < hi {
      let mid = (lo + hi) / 2
      if times[mid] <= pts { lo = mid + 1 } else { hi = mid }
    }
    return max(lo - 1, 0)
  }

  /// The last key frame at least `lead` frames before `first`, other than the first frame.
  func keyBefore(_ first: Int, lead: Int = 4) -> Int? {
    keys.last { $0 > 0 && $0 <= first - lead }
  }

  /// Longest stream whose times are read (frames; 16 bytes each): a longer one is not sought.
  static let maxFrames = 4_000_000
  /// How many files' times are kept.
  static let cached = 32
  nonisolated(unsafe) private static var cache: [String: FrameTimes] = [:]
  private static let lock = NSLock()

  /// The times of stream `stream` of the file at `path`, from the cache or read now; nil when the
  /// file cannot be read again, a packet has no time, or the stream is longer than `maxFrames`.
  static func of(path: String, stream: Int32) -> FrameTimes? {
    let attributes = try? FileManager.default.attributesOfItem(atPath: path)
    let size = attributes?[.size] as? Int ?? -1
    let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
    let key = "\(path)|\(size)|\(modified)|\(stream)"
    lock.lock()
    if let known = cache[key] {
      lock.unlock()
      return known
    }
    lock.unlock()
    guard let times = read(path: path, stream: stream) else { return nil }
    lock.lock()
    if cache.count >= cached { cache.removeAll() }
    cache[key] = times
    lock.unlock()
    return times
  }

  /// Demuxes every packet of the stream (packets the demuxer marks to be discarded, as an edit
  /// list's, show no frame and are left out).
  static func read(path: String, stream: Int32) -> FrameTimes? {
    guard let owner = try? FormatContext(path: path, what: "a video"),
      avformat_find_stream_info(owner.pointer, nil) >= 0,
      let pkt = av_packet_alloc()
    else { return nil }
    defer {
      var p: UnsafeMutablePointer<AVPacket>? = pkt
      av_packet_free(&p)
    }
    var shown: [(pts: Int64, key: Bool)] = []
    while av_read_frame(owner.pointer, pkt) >= 0 {
      defer { av_packet_unref(pkt) }
      guard pkt.pointee.stream_index == stream else { continue }
      guard !StopRequest.pending, shown.count < maxFrames else { return nil }
      let flags = pkt.pointee.flags
      if flags & AV_PKT_FLAG_DISCARD != 0 { continue }
      guard pkt.pointee.pts != svfap_nopts_value() else { return nil }
      shown.append((pkt.pointee.pts, flags & AV_PKT_FLAG_KEY != 0))
    }
    shown.sort { $0.pts < $1.pts }
    return FrameTimes(
      times: shown.map(\.pts), keys: shown.indices.filter { shown[$0].key })
  }
}
