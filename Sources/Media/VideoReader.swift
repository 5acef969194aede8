import CFFmpeg
import Foundation
import SafeFiles
import StopRequests

/// Reads frames of a video file through libavformat/libavcodec (threaded decoding) or of a folder
/// of images (jpg/png, each decoded by FFmpeg), scaled with libswscale to a requested size as
/// RGB24.
public final class VideoReader {
  /// Facts about the video.
  public let info: VideoInfo
  /// Image files of a frame folder, sorted (nil for a video file).
  let frameFiles: [String]?
  /// The demuxer and decoder, each owned once: freed when the reader goes, and on every error path
  /// of `init` too (Swift releases the properties already set when an initializer throws).
  var formatContext: FormatContext?
  var codecContext: CodecContext?
  var format: UnsafeMutablePointer<AVFormatContext>? { formatContext?.pointer }
  var decoder: UnsafeMutablePointer<AVCodecContext>? { codecContext?.pointer }
  var streamIndex: Int32 = -1
  var timeBase = 0.0
  var startTime = 0.0
  /// Whether frames were read before (the next read rewinds first).
  var used = false
  /// Whether far-in frames are reached by seeking (tests turn it off to compare with plain
  /// decoding).
  public var allowSeek = true
  /// The frame the last read started decoding at (a key frame where it sought; 0 from the start).
  public private(set) var decodingStart: Int? = nil
  /// How many frames the last read decoded.
  public private(set) var decodedFrames = 0

  static let imageExtensions: Set<String> = ["jpg", "jpeg", "png", "bmp"]

  /// FFmpeg's own log: errors only (our errors carry the messages that matter).
  static let quietLog: Void = { av_log_set_level(AV_LOG_ERROR) }()

  /// Opens a video file or a folder of frames; errors name the file and what is wrong.
  public init(path: String) throws {
    _ = Self.quietLog
    // A NUL would cut the path short in every C call below (the file before it would be read).
    guard !path.utf8.contains(0) else {
      throw MediaError(path, "the path contains a NUL character")
    }
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
      throw MediaError(path, "no such file or folder")
    }
    if isDir.boolValue {
      let names = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [])
        .filter { Self.imageExtensions.contains(($0 as NSString).pathExtension.lowercased()) }
        .sorted()
      guard let first = names.first else {
        throw MediaError(path, "the folder holds no jpg/png frames")
      }
      frameFiles = names.map { path + "/" + $0 }
      // Numbered frames must not skip a number: a gap means a lost frame and a wrong time axis.
      let numbers = names.compactMap { n in
        Int(
          String((n as NSString).deletingPathExtension.reversed().prefix { $0.isNumber }.reversed())
        )
      }
      if numbers.count == names.count {
        for (a, b) in zip(numbers, numbers.dropFirst()) where b != a &+ 1 {
          throw MediaError(path, "frame numbering jumps from \(a) to \(b): frame(s) missing")
        }
      }
      let probe = try Self.decodeImage(path + "/" + first)
      info = VideoInfo(
        path: path, format: "image folder", codec: (first as NSString).pathExtension.lowercased(),
        width: probe.width,
        height: probe.height, fps: 25, frameCount: names.count, frameCountExact: true,
        duration: Double(names.count) / 25)
      return
    }
    frameFiles = nil
    do { try SafeFile.check(path) } catch { throw MediaError(path, error.reason) }
    if let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int,
      size == 0
    {
      throw MediaError(path, "the file is empty")
    }
    let owner = try FormatContext(path: path, what: "a video")
    formatContext = owner
    let fmt = owner.pointer
    var r = avformat_find_stream_info(fmt, nil)
    guard r >= 0 else {
      throw MediaError(path, "cannot read stream information (\(ffmpegMessage(r)))")
    }
    let idx = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, nil, 0)
    guard idx >= 0, idx < fmt.pointee.nb_streams, let stream = fmt.pointee.streams[Int(idx)],
      let par = stream.pointee.codecpar
    else {
      throw MediaError(path, "no video stream (audio-only or not a video)")
    }
    streamIndex = idx
    guard let codec = avcodec_find_decoder(par.pointee.codec_id),
      let codecOwner = CodecContext(codec)
    else {
      throw MediaError(path, "no decoder for this video's codec")
    }
    codecContext = codecOwner
    let ctx = codecOwner.pointer
    avcodec_parameters_to_context(ctx, par)
    ctx.pointee.thread_count = 2
    r = avcodec_open2(ctx, codec, nil)
    guard r >= 0 else { throw MediaError(path, "cannot open the decoder (\(ffmpegMessage(r)))") }
    let tb = stream.pointee.time_base
    timeBase = Double(tb.num) / Double(max(tb.den, 1))
    startTime =
      stream.pointee.start_time == svfap_nopts_value()
      ? 0 : Double(stream.pointee.start_time) * timeBase
    var rate = stream.pointee.avg_frame_rate
    if rate.num == 0 || rate.den == 0 { rate = stream.pointee.r_frame_rate }
    let fps = rate.den == 0 || rate.num == 0 ? 25 : Double(rate.num) / Double(rate.den)
    var duration =
      stream.pointee.duration != svfap_nopts_value()
      ? Double(stream.pointee.duration) * timeBase : 0
    if duration <= 0, fmt.pointee.duration != svfap_nopts_value() {
      duration = Double(fmt.pointee.duration) / 1e6
    }
    let exact = stream.pointee.nb_frames > 0
    let count = exact ? Int(stream.pointee.nb_frames) : clampedIndex(duration * fps)
    guard par.pointee.width > 0, par.pointee.height > 0 else {
      throw MediaError(path, "the video stream has no frame size")
    }
    info = VideoInfo(
      path: path, format: String(cString: fmt.pointee.iformat.pointee.name),
      codec: String(cString: codec.pointee.name),
      width: Int(par.pointee.width), height: Int(par.pointee.height), fps: fps, frameCount: count,
      frameCountExact: exact, duration: duration)
  }

  /// Where to seek for a read whose first wanted frame is `first` (a timestamp in the stream's time
  /// base), or nil to decode from the start: the index's last key frame at least 4 frames before
  /// it, when that is not the first frame; without an index, a second before a frame over 4
  /// seconds in. Frames after a seek are numbered from their times: by the frame rate where the
  /// index shows steady timing (key frames' times a constant offset from their numbers), else by
  /// their place among all frames' times (`FrameTimes`, read once per file; no seek without them).
  func seekTarget(_ first: Int) -> (target: Int64, numbering: FrameTimes?)? {
    guard first > 0, timeBase > 0, info.fps > 0, let fmt = format,
      let stream = fmt.pointee.streams[Int(streamIndex)]
    else { return nil }
    let count = avformat_index_get_entries_count(stream)
    guard count > 0 else {
      guard Double(first) > info.fps * 4 else { return nil }
      return (max(Int64((startTime + Double(first) / info.fps - 1) / timeBase), 0), nil)
    }
    /// Uneven timing: the key frame and the numbering from the frames' own times (`FrameTimes`).
    func byFrameTimes() -> (target: Int64, numbering: FrameTimes?)? {
      guard let times = FrameTimes.of(path: info.path, stream: streamIndex),
        let key = times.keyBefore(first)
      else { return nil }
      return (times.times[key], times)
    }
    // Index entries are in decoding order and carry decoding times: a steady file's key frame
    // number i sits a constant offset (the reordering delay) from its time.
    var offset: Double? = nil, best: Int64? = nil
    for i in 0..<count {
      guard let e = avformat_index_get_entry(stream, i), e.pointee.flags & AVINDEX_KEYFRAME != 0
      else { continue }
      let numbered = (Double(e.pointee.timestamp) * timeBase - startTime) * info.fps - Double(i)
      if offset == nil { offset = numbered }
      guard let offset, abs(numbered - offset) < 0.5 else { return byFrameTimes() }
      guard Int(i) <= first - 4 else { break }
      // av_seek_frame takes a presentation time; the index holds decoding times, which B-frame
      // streams shift earlier (seeking to one lands a key frame early): the key frame's own
      // presentation time (its number, the timing being steady), half a frame late.
      best =
        i == 0 ? nil : Int64(((startTime + (Double(i) + 0.5) / info.fps) / timeBase).rounded(.down))
    }
    return best.map { ($0, nil) }
  }

  /// Back to the first frame for another read: a seek, or — where the demuxer cannot go back (a
  /// single image's, whose second read would find no frame) — the file opened again.
  func rewind() throws {
    guard let fmt = format else { return }
    let single = info.format == "image2" || info.format.hasSuffix("_pipe")
    if !single, av_seek_frame(fmt, streamIndex, 0, AVSEEK_FLAG_BACKWARD) >= 0 {
      avcodec_flush_buffers(decoder)
      return
    }
    let owner = try FormatContext(path: info.path, what: "a video")
    let r = avformat_find_stream_info(owner.pointer, nil)
    guard r >= 0 else {
      throw MediaError(info.path, "cannot read stream information again (\(ffmpegMessage(r)))")
    }
    formatContext = owner
    avcodec_flush_buffers(decoder)
  }

  /// RGB24 frames (height × width × 3 bytes each) of the given frame indices, scaled to `width` ×
  /// `height`, in the order asked. Indices past the last decodable frame repeat the last frame (the
  /// short-video policy). Long videos are entered by seeking to the key frame before the first
  /// index.
  /// With `regions`, frame i's output is its square region regions[i] (x, y, side, side in the
  /// video's own pixels) scaled to `width` × `height` (equal): converted straight from the decoded picture's
  /// rectangle when its pixel format is planar 8-bit YUV (a face crop then costs a crop-sized
  /// conversion, not a frame-sized one), else from the whole frame.
  public func frames(
    _ indices: [Int], width: Int, height: Int, regions: [Int: [Double]]? = nil
  ) throws -> [[UInt8]] {
    guard width > 0, height > 0 else {
      throw MediaError(info.path, "bad output size \(width)x\(height)")
    }
    if let regions, !regions.isEmpty {
      guard width == height else {
        throw MediaError(info.path, "regions are cropped square: asked for \(width)x\(height)")
      }
      guard frameFiles == nil else {  // frame folders: the whole frames, then the regions
        let whole = try frames(indices, width: info.width, height: info.height)
        return zip(indices, whole).map { i, rgb in
          Self.cropRGB(rgb, width: info.width, height: info.height, box: region(i), size: width)
        }
      }
    }
    /// Index i's square region, or the frame's central square.
    func region(_ i: Int) -> [Double] {
      if let r = regions?[i] { return r }
      let side = Double(min(info.width, info.height))
      return [(Double(info.width) - side) / 2, (Double(info.height) - side) / 2, side, side]
    }
    if let files = frameFiles {
      return try indices.map { i in
        try StopRequest.check("decoding")
        let img = try Self.decodeImage(
          files[min(max(i, 0), files.count - 1)], width: width, height: height)
        return img.rgb
      }
    }
    let wanted = Set(indices)
    guard let maxIndex = indices.max() else { return [] }
    // Restart from the beginning for each request (the reader may have been used before).
    var got: [Int: [UInt8]] = [:]
    let firstIndex = indices.min() ?? 0
    var counter = 0, lastIndex = -1
    var seeked = false
    var numbering: FrameTimes? = nil
    // Seek to the last key frame before the first wanted frame when the file's index names one
    // (decoding starts there, not at the file's start); without an index, only when the first
    // wanted frame is far in, a second early.
    if allowSeek, let fmt = format, let (target, times) = seekTarget(firstIndex) {
      if av_seek_frame(fmt, streamIndex, target, AVSEEK_FLAG_BACKWARD) >= 0 {
        avcodec_flush_buffers(decoder)
        (seeked, numbering) = (true, times)
      }
    } else if used {
      try rewind()
    }
    used = true
    guard let pkt = av_packet_alloc(), let frame = av_frame_alloc(),
      let lastFrame = av_frame_alloc()
    else {
      throw MediaError(info.path, "out of memory")
    }
    defer {
      var p: UnsafeMutablePointer<AVPacket>? = pkt
      av_packet_free(&p)
      var f: UnsafeMutablePointer<AVFrame>? = frame
      av_frame_free(&f)
      var l: UnsafeMutablePointer<AVFrame>? = lastFrame
      av_frame_free(&l)
    }
    var sws: OpaquePointer? = nil
    defer { sws_freeContext(sws) }
    func convert(_ f: UnsafeMutablePointer<AVFrame>, _ index: Int) throws -> [UInt8] {
      guard let region = regions?[index] else { return try convert(f, rect: nil) }
      if let rect = Self.planarRect(f, region) { return try convert(f, rect: rect) }
      let (fw, fh) = (Int(f.pointee.width), Int(f.pointee.height))
      let whole = try convert(f, rect: nil, size: (fw, fh))
      return Self.cropRGB(whole, width: fw, height: fh, box: region, size: width)
    }
    /// The picture (or its rectangle x, y, w, h) scaled to `size` (default: the output's).
    func convert(
      _ f: UnsafeMutablePointer<AVFrame>, rect: (Int, Int, Int, Int)?, size: (Int, Int)? = nil
    ) throws -> [UInt8] {
      let (width, height) = size ?? (width, height)
      let (x, y, w, h) = rect ?? (0, 0, Int(f.pointee.width), Int(f.pointee.height))
      sws = sws_getCachedContext(
        sws, Int32(w), Int32(h), AVPixelFormat(f.pointee.format), Int32(width),
        Int32(height),
        AV_PIX_FMT_RGB24, SWS_BILINEAR, nil, nil, nil)
      guard sws != nil else {
        throw MediaError(info.path, "cannot convert frames of pixel format \(f.pointee.format)")
      }
      // libswscale's SIMD writes whole vectors: rows padded to 64 bytes and 64 bytes of tail, as
      // av_image_alloc would lay them out; then the rows are packed into the tight RGB array.
      let row = width * 3, paddedRow = (row + 63) / 64 * 64
      var padded = [UInt8](repeating: 0, count: paddedRow * height + 64)
      padded.withUnsafeMutableBufferPointer { dst in
        var dstData: [UnsafeMutablePointer<UInt8>?] = [dst.baseAddress, nil, nil, nil]
        var dstStride: [Int32] = [Int32(paddedRow), 0, 0, 0]
        withPlanes(of: f) { d, l in
          guard rect != nil, let desc = av_pix_fmt_desc_get(AVPixelFormat(f.pointee.format)) else {
            _ = sws_scale(
              sws, UnsafeRawPointer(d).assumingMemoryBound(to: UnsafePointer<UInt8>?.self), l, 0,
              f.pointee.height, &dstData, &dstStride)
            return
          }
          // The rectangle's first pixel in each plane (chroma planes subsampled).
          var planes: [UnsafePointer<UInt8>?] = (0..<4).map { p in
            guard let base = d[p] else { return nil }
            let chroma = p == 1 || p == 2
            let px = chroma ? x >> Int(desc.pointee.log2_chroma_w) : x
            let py = chroma ? y >> Int(desc.pointee.log2_chroma_h) : y
            return UnsafePointer(base + py * Int(l[p]) + px)
          }
          _ = sws_scale(sws, &planes, l, 0, Int32(h), &dstData, &dstStride)
        }
      }
      if paddedRow == row { return Array(padded.prefix(row * height)) }
      var rgb = [UInt8](repeating: 0, count: row * height)
      for y in 0..<height {
        rgb[(y * row)..<((y + 1) * row)] = padded[(y * paddedRow)..<(y * paddedRow + row)]
      }
      return rgb
    }
    /// The number of the frame shown at `pts` after a seek: from the frames' own times where the
    /// timing is uneven, else from the frame rate.
    func number(_ pts: Int64) -> Int {
      numbering?.frame(at: pts) ?? clampedIndex((Double(pts) * timeBase - startTime) * info.fps)
    }
    var done = false
    var firstDecoded: Int? = nil
    decodedFrames = 0
    func take(_ f: UnsafeMutablePointer<AVFrame>) throws {
      let index: Int
      let ts = f.pointee.best_effort_timestamp
      if seeked && ts != svfap_nopts_value() {
        index = number(ts)
      } else {
        index = counter
      }
      if firstDecoded == nil { firstDecoded = index }
      decodedFrames += 1
      counter = index + 1
      if index > maxIndex {
        done = true
        return
      }
      if wanted.contains(index) { got[index] = try convert(f, index) }
      av_frame_unref(lastFrame)
      av_frame_ref(lastFrame, f)
      lastIndex = index
      if index == maxIndex { done = true }
    }
    // After a seek frames are numbered by their times, so a frame nobody wants may go undecoded
    // when nothing refers to it (a non-reference B-frame): the decoder is told so packet by packet.
    // Not where the read reaches the video's end (its last decoded frame stands in for later ones).
    let mayDiscard = seeked && maxIndex < info.frameCount - 1
    defer { decoder?.pointee.skip_frame = AVDISCARD_DEFAULT }
    while !done {
      try StopRequest.check("decoding")
      let r = av_read_frame(format, pkt)
      if r < 0 { break }
      defer { av_packet_unref(pkt) }
      guard pkt.pointee.stream_index == streamIndex else { continue }
      if mayDiscard, let ctx = decoder {
        let pts = pkt.pointee.pts
        let index = pts == svfap_nopts_value() ? nil : number(pts)
        let unwanted = index.map { $0 < maxIndex && !wanted.contains($0) } ?? false
        ctx.pointee.skip_frame = unwanted ? AVDISCARD_NONREF : AVDISCARD_DEFAULT
      }
      if avcodec_send_packet(decoder, pkt) < 0 { continue }  // a damaged packet: skip it
      while !done && avcodec_receive_frame(decoder, frame) == 0 { try take(frame) }
    }
    if !done {
      avcodec_send_packet(decoder, nil)
      while !done && avcodec_receive_frame(decoder, frame) == 0 { try take(frame) }
    }
    decodingStart = firstDecoded
    if seeked, let first = firstDecoded, first > firstIndex {
      // The seek landed past a wanted frame (a stream whose key frame shows later than its index
      // says): decode from the start instead.
      let could = allowSeek
      allowSeek = false
      defer { allowSeek = could }
      return try frames(indices, width: width, height: height, regions: regions)
    }
    guard lastIndex >= 0 else {
      throw MediaError(info.path, "no frame could be decoded (truncated or damaged file?)")
    }
    // Short videos: indices past the last frame take the last frame (documented policy).
    var tail: [UInt8]? = nil
    return try indices.map { i in
      if let f = got[i] { return f }
      if regions?[i] != nil { return try convert(lastFrame, i) }  // each its own region
      if let t = tail { return t }
      let t = try convert(lastFrame, i)
      tail = t
      return t
    }
  }

  /// The rectangle (x, y, w, h) of a decoded picture that holds `region` (x, y, w, h in its
  /// pixels), its corner on the chroma grid; nil when the picture is not planar 8-bit YUV (or the
  /// region is empty), where the whole frame is converted instead.
  static func planarRect(_ f: UnsafeMutablePointer<AVFrame>, _ region: [Double]) -> (
    Int, Int, Int, Int
  )? {
    guard region.count == 4, region.allSatisfy(\.isFinite),
      let desc = av_pix_fmt_desc_get(AVPixelFormat(f.pointee.format))
    else { return nil }
    let flags = desc.pointee.flags
    guard flags & UInt64(AV_PIX_FMT_FLAG_PLANAR) != 0, flags & UInt64(AV_PIX_FMT_FLAG_RGB) == 0,
      desc.pointee.nb_components >= 3, desc.pointee.comp.0.depth == 8
    else { return nil }
    let (fw, fh) = (Int(f.pointee.width), Int(f.pointee.height))
    let (ax, ay) = (1 << Int(desc.pointee.log2_chroma_w), 1 << Int(desc.pointee.log2_chroma_h))
    let x0 = min(max(Int(region[0].rounded(.down)), 0), fw - 1) / ax * ax
    let y0 = min(max(Int(region[1].rounded(.down)), 0), fh - 1) / ay * ay
    let x1 = min(max(Int((region[0] + region[2]).rounded()), x0 + 1), fw)
    let y1 = min(max(Int((region[1] + region[3]).rounded()), y0 + 1), fh)
    guard x1 - x0 >= 2, y1 - y0 >= 2 else { return nil }
    return (x0, y0, x1 - x0, y1 - y0)
  }

  /// Decodes one image file; with a size, scaled to it.
  static func decodeImage(_ path: String, width: Int? = nil, height: Int? = nil) throws -> (
    width: Int, height: Int, rgb: [UInt8]
  ) {
    let r = try VideoReader(singleImage: path)
    let w = width ?? r.info.width, h = height ?? r.info.height
    let frames = try r.frames([0], width: w, height: h)
    return (w, h, frames[0])
  }

  /// Opens one image through FFmpeg's image demuxers.
  private init(singleImage path: String) throws {
    frameFiles = nil
    let owner = try FormatContext(path: path, what: "an image")
    formatContext = owner
    let fmt = owner.pointer
    let r = avformat_find_stream_info(fmt, nil)
    let idx = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, nil, 0)
    guard r >= 0, idx >= 0, idx < fmt.pointee.nb_streams,
      let stream = fmt.pointee.streams[Int(idx)], let par = stream.pointee.codecpar,
      let codec = avcodec_find_decoder(par.pointee.codec_id), let codecOwner = CodecContext(codec)
    else {
      throw MediaError(path, "unreadable image")
    }
    codecContext = codecOwner
    let ctx = codecOwner.pointer
    streamIndex = idx
    avcodec_parameters_to_context(ctx, par)
    guard avcodec_open2(ctx, codec, nil) >= 0, par.pointee.width > 0 else {
      throw MediaError(path, "unreadable image")
    }
    info = VideoInfo(
      path: path, format: "image", codec: String(cString: codec.pointee.name),
      width: Int(par.pointee.width),
      height: Int(par.pointee.height), fps: 25, frameCount: 1, frameCountExact: true, duration: 0.04
    )
  }
}

/// Calls `body` with an AVFrame's plane pointers and line sizes as the C arrays libswscale takes.
func withPlanes<R>(
  of f: UnsafeMutablePointer<AVFrame>,
  _ body: (UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>, UnsafeMutablePointer<Int32>) -> R
) -> R {
  withUnsafeMutablePointer(to: &f.pointee.data) { dataPtr in
    withUnsafeMutablePointer(to: &f.pointee.linesize) { linePtr in
      dataPtr.withMemoryRebound(to: UnsafeMutablePointer<UInt8>?.self, capacity: 8) { d in
        linePtr.withMemoryRebound(to: Int32.self, capacity: 8) { l in body(d, l) }
      }
    }
  }
}

/// A frame index or count computed from a file's timestamps, rates and durations (which a corrupt
/// file can make NaN, infinite or absurd): rounded and clamped to 0…2^40, never a trapping
/// conversion.
func clampedIndex(_ x: Double) -> Int {
  guard x.isFinite else { return 0 }
  return Int(min(max(x.rounded(), 0), 1_099_511_627_776))
}

/// An open AVFormatContext, closed exactly once when its owner goes.
final class FormatContext {
  /// The context.
  let pointer: UnsafeMutablePointer<AVFormatContext>

  /// Opens `path`; `what` names the kind of file in the error ("a video", "an image").
  init(path: String, what: String) throws {
    // A regular file only (a FIFO, /dev/stdin or /proc/self/fd/0 would make FFmpeg wait on it), and
    // always through FFmpeg's file protocol: a name like "pipe:0" or "http://…" is a file name here.
    do { try SafeFile.check(path) } catch { throw MediaError(path, error.reason) }
    let absolute =
      path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    var fmt: UnsafeMutablePointer<AVFormatContext>? = nil
    let r = avformat_open_input(&fmt, "file:" + absolute, nil, nil)
    guard r >= 0, let fmt else {
      throw MediaError(path, "not \(what) FFmpeg can open (\(ffmpegMessage(r)))")
    }
    pointer = fmt
  }

  deinit {
    var p: UnsafeMutablePointer<AVFormatContext>? = pointer
    avformat_close_input(&p)
  }
}

/// An AVCodecContext, freed exactly once when its owner goes.
final class CodecContext {
  /// The context.
  let pointer: UnsafeMutablePointer<AVCodecContext>

  /// A context for `codec`, or nil when FFmpeg cannot allocate one.
  init?(_ codec: UnsafePointer<AVCodec>) {
    guard let ctx = avcodec_alloc_context3(codec) else { return nil }
    pointer = ctx
  }

  deinit {
    var p: UnsafeMutablePointer<AVCodecContext>? = pointer
    avcodec_free_context(&p)
  }
}
