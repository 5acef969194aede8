import CFFmpeg
import Foundation

/// Writes RGB24 frames to a real video file through libavcodec/libavformat: H.264 (libx264) in .mp4
/// or .mov or .flv, HEVC (libx265) on request, MPEG-4 Part 2 in .avi, VP8 in .webm. The file
/// appears under its name only when `finish()` succeeds (written to a temporary name first).
public final class VideoWriter {
  let path: String
  let tmpPath: String
  var format: UnsafeMutablePointer<AVFormatContext>?
  var encoder: UnsafeMutablePointer<AVCodecContext>?
  var stream: UnsafeMutablePointer<AVStream>?
  var frame: UnsafeMutablePointer<AVFrame>?
  var packet: UnsafeMutablePointer<AVPacket>?
  var sws: OpaquePointer?
  var next: Int64 = 0
  /// Frame width and height.
  public let width: Int, height: Int

  /// Opens `path` for frames of `width` × `height` at `fps`. `codec`: "h264", "hevc" or "mpeg4"
  /// (default: mpeg4 for .avi, h264 otherwise).
  public init(path: String, width: Int, height: Int, fps: Int = 25, codec: String? = nil) throws {
    _ = VideoReader.quietLog
    self.path = path
    self.width = width
    self.height = height
    let ext = (path as NSString).pathExtension.lowercased()
    tmpPath = (path as NSString).deletingPathExtension + ".partial-\(getpid())." + ext
    guard width > 0, height > 0, width % 2 == 0, height % 2 == 0 else {
      throw MediaError(path, "frame size \(width)x\(height) must be positive and even")
    }
    var st = stat()
    if lstat(path, &st) == 0, (st.st_mode & S_IFMT) != S_IFREG {
      throw MediaError(
        path,
        "exists and is not a regular file (a folder, FIFO, device or link); refusing to replace it")
    }
    var oc: UnsafeMutablePointer<AVFormatContext>? = nil
    guard avformat_alloc_output_context2(&oc, nil, nil, tmpPath) >= 0, let oc else {
      throw MediaError(path, "no container format for '.\(ext)'")
    }
    format = oc
    let name = codec ?? (ext == "avi" ? "mpeg4" : ext == "webm" ? "vp8" : "h264")
    let found: UnsafePointer<AVCodec>?
    switch name {
    case "h264":
      found = avcodec_find_encoder_by_name("libx264") ?? avcodec_find_encoder(AV_CODEC_ID_H264)
    case "hevc":
      found = avcodec_find_encoder_by_name("libx265") ?? avcodec_find_encoder(AV_CODEC_ID_HEVC)
    case "mpeg4": found = avcodec_find_encoder(AV_CODEC_ID_MPEG4)
    case "vp8":
      found = avcodec_find_encoder_by_name("libvpx") ?? avcodec_find_encoder(AV_CODEC_ID_VP8)
    default: throw MediaError(path, "unknown codec '\(name)' (h264, hevc, mpeg4 or vp8)")
    }
    guard let enc = found, let ctx = avcodec_alloc_context3(enc),
      let st = avformat_new_stream(oc, nil)
    else {
      throw MediaError(path, "no \(name) encoder in this FFmpeg")
    }
    encoder = ctx
    stream = st
    ctx.pointee.width = Int32(width)
    ctx.pointee.height = Int32(height)
    ctx.pointee.time_base = AVRational(num: 1, den: Int32(fps))
    ctx.pointee.framerate = AVRational(num: Int32(fps), den: 1)
    ctx.pointee.pix_fmt = AV_PIX_FMT_YUV420P
    ctx.pointee.gop_size = 12
    ctx.pointee.thread_count = 2
    if name == "mpeg4" || name == "vp8" { ctx.pointee.bit_rate = 2_000_000 }
    if oc.pointee.oformat.pointee.flags & AVFMT_GLOBALHEADER != 0 {
      ctx.pointee.flags |= Int32(AV_CODEC_FLAG_GLOBAL_HEADER)
    }
    var opts: OpaquePointer? = nil
    if name == "h264" {
      av_dict_set(&opts, "preset", "veryfast", 0)
      av_dict_set(&opts, "crf", "18", 0)
    }
    if name == "hevc" {
      av_dict_set(&opts, "preset", "ultrafast", 0)
      av_dict_set(&opts, "x265-params", "log-level=error", 0)
    }
    let r = avcodec_open2(ctx, enc, &opts)
    av_dict_free(&opts)
    guard r >= 0 else {
      throw MediaError(path, "cannot open the \(name) encoder (\(ffmpegMessage(r)))")
    }
    avcodec_parameters_from_context(st.pointee.codecpar, ctx)
    st.pointee.time_base = ctx.pointee.time_base
    st.pointee.avg_frame_rate = ctx.pointee.framerate
    guard avio_open(&oc.pointee.pb, tmpPath, AVIO_FLAG_WRITE) >= 0 else {
      throw MediaError(path, "cannot create the file")
    }
    guard avformat_write_header(oc, nil) >= 0 else {
      throw MediaError(path, "cannot write the container header")
    }
    frame = av_frame_alloc()
    packet = av_packet_alloc()
    guard let frame else { throw MediaError(path, "out of memory") }
    frame.pointee.format = AV_PIX_FMT_YUV420P.rawValue
    frame.pointee.width = Int32(width)
    frame.pointee.height = Int32(height)
    guard av_frame_get_buffer(frame, 0) >= 0 else { throw MediaError(path, "out of memory") }
    sws = sws_getContext(
      Int32(width), Int32(height), AV_PIX_FMT_RGB24, Int32(width), Int32(height),
      AV_PIX_FMT_YUV420P, SWS_BILINEAR, nil, nil, nil)
  }

  deinit {
    sws_freeContext(sws)
    av_frame_free(&frame)
    av_packet_free(&packet)
    avcodec_free_context(&encoder)
    if let oc = format {
      if oc.pointee.pb != nil { avio_closep(&oc.pointee.pb) }
      avformat_free_context(oc)
      unlink(tmpPath)
    }
  }

  /// Appends one RGB24 frame (height × width × 3 bytes).
  public func write(rgb: [UInt8]) throws {
    guard rgb.count == width * height * 3, let frame else {
      throw MediaError(path, "frame of \(rgb.count) bytes, expected \(width * height * 3)")
    }
    av_frame_make_writable(frame)
    // libswscale's vector loads may read past a tight row: rows padded to 64 bytes, 64 bytes of
    // tail.
    let row = width * 3, paddedRow = (row + 63) / 64 * 64
    var padded = [UInt8](repeating: 0, count: paddedRow * height + 64)
    for y in 0..<height {
      padded[(y * paddedRow)..<(y * paddedRow + row)] = rgb[(y * row)..<((y + 1) * row)]
    }
    padded.withUnsafeBufferPointer { src in
      var srcData: [UnsafePointer<UInt8>?] = [src.baseAddress, nil, nil, nil]
      var srcStride: [Int32] = [Int32(paddedRow), 0, 0, 0]
      withPlanes(of: frame) { d, l in
        _ = sws_scale(sws, &srcData, &srcStride, 0, Int32(height), d, l)
      }
    }
    frame.pointee.pts = next
    next += 1
    try send(frame)
  }

  func send(_ f: UnsafeMutablePointer<AVFrame>?) throws {
    guard avcodec_send_frame(encoder, f) >= 0 else {
      throw MediaError(path, "the encoder refused a frame")
    }
    guard let encoder, let stream, let packet else {
      throw MediaError(path, "the writer is already finished")
    }
    while avcodec_receive_packet(encoder, packet) == 0 {
      av_packet_rescale_ts(packet, encoder.pointee.time_base, stream.pointee.time_base)
      packet.pointee.stream_index = stream.pointee.index
      guard av_interleaved_write_frame(format, packet) >= 0 else {
        throw MediaError(path, "cannot write a packet")
      }
    }
  }

  /// Flushes the encoder, writes the trailer and moves the file into place.
  public func finish() throws {
    try send(nil)
    guard av_write_trailer(format) >= 0 else { throw MediaError(path, "cannot write the trailer") }
    if let format { avio_closep(&format.pointee.pb) }
    guard rename(tmpPath, path) == 0 else {
      throw MediaError(path, "cannot move the finished file into place")
    }
    avformat_free_context(format)
    format = nil
  }
}
