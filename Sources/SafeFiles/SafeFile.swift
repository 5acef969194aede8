import Foundation

/// The one way the workbench opens a path: regular files only. A path is opened without blocking
/// (`O_NONBLOCK`: a FIFO with no writer, a terminal or `/dev/stdin` would otherwise wait forever)
/// and then checked with `fstat` on what was actually opened, so a folder, a FIFO, a device, a
/// socket or `/proc/self/fd/0` is refused by its type, never by its name, and never read or waited
/// on.
public enum SafeFile {
  /// A file descriptor open on a regular file (`O_NONBLOCK` cleared again after the check).
  public static func open(_ path: String, flags: Int32, mode: mode_t = 0o644) throws(SafeFileError)
    -> Int32
  {
    guard !path.isEmpty else { throw SafeFileError(path, "an empty path") }
    guard !path.utf8.contains(0) else {
      throw SafeFileError(path, "the path contains a NUL character")
    }
    let fd = Glibc.open(path, flags | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, mode)
    guard fd >= 0 else { throw SafeFileError(path, reason(errno)) }
    var st = stat()
    guard fstat(fd, &st) == 0 else {
      let e = errno
      close(fd)
      throw SafeFileError(path, reason(e))
    }
    guard (st.st_mode & S_IFMT) == S_IFREG else {
      close(fd)
      throw SafeFileError(path, "is \(kind(st.st_mode)), not a regular file")
    }
    _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
    return fd
  }

  /// Throws unless `path` opens as a regular file (for paths handed on to a library that opens
  /// them itself, such as FFmpeg: it then gets the same file).
  public static func check(_ path: String) throws(SafeFileError) {
    close(try open(path, flags: O_RDONLY))
  }

  /// The bytes of a regular file of at most `limit` bytes.
  public static func read(_ path: String, limit: Int = 1 << 36) throws(SafeFileError) -> Data {
    let fd = try open(path, flags: O_RDONLY)
    defer { close(fd) }
    var st = stat()
    _ = fstat(fd, &st)
    guard Int(st.st_size) <= limit else {
      throw SafeFileError(path, "is \(st.st_size) bytes, more than the \(limit) allowed")
    }
    var data = Data()
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    while true {
      let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
      if n < 0 && errno == EINTR { continue }
      if n < 0 { throw SafeFileError(path, reason(errno)) }
      if n == 0 { break }
      data.append(contentsOf: buffer[0..<n])
      if data.count > limit { throw SafeFileError(path, "grew past the \(limit) bytes allowed") }
    }
    return data
  }

  /// The UTF-8 text of a regular file.
  public static func readText(_ path: String, limit: Int = 1 << 30) throws(SafeFileError) -> String
  {
    let data = try read(path, limit: limit)
    guard let text = String(data: data, encoding: .utf8) else {
      throw SafeFileError(path, "is not UTF-8 text")
    }
    return text
  }

  /// Appends `data` to a regular file (created when missing) in one `O_APPEND` write, so lines that
  /// two processes append never overwrite or split each other.
  public static func append(_ data: Data, to path: String) throws(SafeFileError) {
    let fd = try open(path, flags: O_WRONLY | O_APPEND | O_CREAT)
    defer { close(fd) }
    try writeAll(data, to: fd, path: path)
  }

  /// Writes every byte of `data` to `fd` (retrying short writes and EINTR).
  public static func writeAll(_ data: Data, to fd: Int32, path: String) throws(SafeFileError) {
    var failure: Int32 = 0
    data.withUnsafeBytes { raw in
      guard let base = raw.baseAddress else { return }
      var offset = 0
      while offset < raw.count {
        let n = Glibc.write(fd, base + offset, raw.count - offset)
        if n < 0 && errno == EINTR { continue }
        if n <= 0 {
          failure = n < 0 ? errno : EIO
          return
        }
        offset += n
      }
    }
    if failure != 0 { throw SafeFileError(path, reason(failure)) }
  }

  /// Writes `data` to a temporary file beside `path`, then renames it over `path`: a reader sees
  /// the old file or the new one, never a part. The folder is created when missing. A path that
  /// exists and is not a regular file (a folder, a FIFO, a device, a symbolic link: replacing a
  /// link would not write where it points) is refused; temporary files that killed saves left in
  /// the folder are removed first.
  public static func writeAtomically(_ data: Data, to path: String) throws(SafeFileError) {
    guard !path.isEmpty, !path.utf8.contains(0) else {
      throw SafeFileError(path, "not a usable file name", writing: true)
    }
    var st = stat()
    if lstat(path, &st) == 0 {
      let mode = st.st_mode & S_IFMT
      if mode == S_IFLNK {
        throw SafeFileError(
          path, "is a symbolic link; refusing to replace it (give the path it points to)",
          writing: true)
      }
      if mode != S_IFREG {
        throw SafeFileError(
          path, "is \(kind(st.st_mode)), not a regular file; refusing to replace it", writing: true)
      }
    }
    let url = URL(fileURLWithPath: path)
    let folder = url.deletingLastPathComponent()
    do {
      try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    } catch {
      throw SafeFileError(path, "cannot create its folder \(folder.path)", writing: true)
    }
    removeStaleTemporaries(in: folder.path)
    let tmp = folder.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())").path
    let fd = Glibc.open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o644)
    guard fd >= 0 else { throw SafeFileError(path, reason(errno), writing: true) }
    do {
      try writeAll(data, to: fd, path: path)
    } catch {
      close(fd)
      unlink(tmp)
      throw SafeFileError(path, error.reason, writing: true)
    }
    close(fd)
    if rename(tmp, path) != 0 {
      let e = errno
      unlink(tmp)
      throw SafeFileError(
        path, "cannot rename the temporary file into place: \(reason(e))", writing: true)
    }
  }

  /// Removes `.NAME.tmp-PID` files in `folder` whose process is gone (a save killed before its
  /// rename).
  public static func removeStaleTemporaries(in folder: String) {
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
    for entry in entries where entry.hasPrefix(".") {
      guard let r = entry.range(of: ".tmp-", options: .backwards),
        let pid = Int32(entry[r.upperBound...])
      else { continue }
      if pid != getpid(), kill(pid, 0) != 0, errno == ESRCH {
        unlink(folder + "/" + entry)
      }
    }
  }

  /// A refusal's words for an errno.
  static func reason(_ e: Int32) -> String {
    switch e {
    case ENOENT: return "no such file (or its folder does not exist)"
    case EACCES, EPERM: return "permission denied"
    case EISDIR: return "is a folder, not a regular file"
    case ENXIO: return "is a FIFO or device with no other end, not a regular file"
    case ELOOP: return "has too many symbolic links"
    case ENAMETOOLONG: return "the path is too long"
    default: return String(cString: strerror(e))
    }
  }

  /// What kind of file a mode is, in words.
  static func kind(_ mode: mode_t) -> String {
    switch mode & S_IFMT {
    case S_IFDIR: return "a folder"
    case S_IFIFO: return "a FIFO (named pipe)"
    case S_IFCHR: return "a character device"
    case S_IFBLK: return "a block device"
    case S_IFSOCK: return "a socket"
    default: return "a special file"
    }
  }
}

/// A path the workbench would not open: names the path and why.
public struct SafeFileError: Error, CustomStringConvertible, Equatable, Sendable {
  /// The path as given.
  public let path: String
  /// Why.
  public let reason: String
  /// Whether it was a write (a command line exits 73, "cannot create", rather than 74).
  public let writing: Bool
  /// An error for `path`.
  public init(_ path: String, _ reason: String, writing: Bool = false) {
    (self.path, self.reason, self.writing) = (path, reason, writing)
  }
  /// "'PATH': REASON", control characters of the path shown as `?`.
  public var description: String { "'\(SafeFile.printable(path))': \(reason)" }
}

extension SafeFile {
  /// A path as a message may show it: C0 control characters and DEL (a NUL, a newline in a file
  /// name) as `?`, so an error line stays one line and names what it can.
  public static func printable(_ path: String) -> String {
    String(
      String.UnicodeScalarView(
        path.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? "?" : $0 }))
  }
}
