import CFFmpeg

/// A video that cannot be used, naming the file and what is wrong.
public struct MediaError: Error, CustomStringConvertible, Sendable {
  /// The file or folder.
  public let path: String
  /// What is wrong.
  public let message: String

  /// An error.
  public init(_ path: String, _ message: String) {
    self.path = path
    self.message = message
  }

  /// "path: message".
  public var description: String { "\(path): \(message)" }
}

/// FFmpeg's message for an error code.
func ffmpegMessage(_ code: Int32) -> String {
  var buf = [CChar](repeating: 0, count: 256)
  av_strerror(code, &buf, 256)
  return String(cString: buf)
}
