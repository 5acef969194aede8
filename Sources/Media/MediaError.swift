import CFFmpeg
import SafeFiles

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

  /// "path: message", control characters of the path (a NUL, a newline in a file name) shown as
  /// `?`.
  public var description: String { "\(Self.printable(path)): \(message)" }

  /// A path as it may be shown: control characters as `?` (`SafeFile.printable`).
  public static func printable(_ path: String) -> String { SafeFile.printable(path) }
}

/// FFmpeg's message for an error code.
func ffmpegMessage(_ code: Int32) -> String {
  var buf = [CChar](repeating: 0, count: 256)
  av_strerror(code, &buf, 256)
  return String(cString: buf)
}
