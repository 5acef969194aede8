/// Facts about a video (or a folder of frames), as `svfap probe` prints them.
public struct VideoInfo: Codable, Sendable, Equatable {
  /// The file or folder.
  public let path: String
  /// Container format ("mov,mp4,m4a,3gp,3g2,mj2", "image folder", …).
  public let format: String
  /// Codec name ("h264", "hevc", "mpeg4", "mjpeg", …).
  public let codec: String
  /// Frame width in pixels.
  public let width: Int
  /// Frame height in pixels.
  public let height: Int
  /// Frames per second (25 assumed for frame folders).
  public let fps: Double
  /// Number of frames.
  public let frameCount: Int
  /// Whether `frameCount` was counted from the container (true) or estimated from the duration.
  public let frameCountExact: Bool
  /// Seconds.
  public let duration: Double
}
