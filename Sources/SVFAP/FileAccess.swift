import Foundation

/// The bytes of a regular file; a folder, a device (/dev/zero) or a FIFO is refused instead of read
/// without end.
public func readRegularFile(_ path: String) throws -> Data {
  var st = stat()
  guard stat(path, &st) == 0 else {
    throw SVFAPError.badFile(
      path: path, message: "cannot read the file (\(String(cString: strerror(errno))))")
  }
  guard (st.st_mode & S_IFMT) == S_IFREG else {
    throw SVFAPError.badFile(path: path, message: "is not a regular file")
  }
  guard let d = FileManager.default.contents(atPath: path) else {
    throw SVFAPError.badFile(path: path, message: "cannot read the file")
  }
  return d
}

/// Writes `data` to a temporary file beside `path`, then renames it over `path`: a reader sees the
/// old file or the new one, never a part. The folder is created when missing; a path that exists
/// and is not a regular file (a device, a folder, a link to one) is refused; temporary files left
/// by saves of processes that no longer run (killed mid-write) are removed first.
public func writeAtomically(_ data: Data, to path: String) throws {
  let url = URL(fileURLWithPath: path)
  let folder = url.deletingLastPathComponent()
  var st = stat()
  if stat(path, &st) == 0, (st.st_mode & S_IFMT) != S_IFREG {
    throw SVFAPError.badFile(
      path: path, message: "exists and is not a regular file; refusing to replace it")
  }
  do {
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
  } catch {
    throw SVFAPError.badFile(
      path: path, message: "cannot create the folder \(folder.path): \(error.localizedDescription)")
  }
  removeStaleTemporaries(in: folder.path, for: url.lastPathComponent)
  let tmp = folder.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
  do {
    try data.write(to: tmp)
    if rename(tmp.path, url.path) != 0 {
      throw SVFAPError.badFile(
        path: path, message: "cannot rename the temporary file into place (errno \(errno))")
    }
  } catch {
    try? FileManager.default.removeItem(at: tmp)
    if let e = error as? SVFAPError { throw e }
    throw SVFAPError.badFile(path: path, message: "cannot write: \(error.localizedDescription)")
  }
}

/// Removes `.NAME.tmp-PID` files in `folder` whose process is gone (a save killed before its
/// rename).
public func removeStaleTemporaries(in folder: String, for name: String? = nil) {
  guard let entries = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
  for entry in entries where entry.hasPrefix(".") {
    guard let r = entry.range(of: ".tmp-", options: .backwards),
      let pid = Int32(entry[r.upperBound...])
    else { continue }
    if let name, entry != ".\(name).tmp-\(pid)" { continue }
    if pid != getpid(), kill(pid, 0) != 0, errno == ESRCH {
      try? FileManager.default.removeItem(atPath: folder + "/" + entry)
    }
  }
}

/// A path's file name without its extension ("runs/pre.jsonl" → "pre").
public func fileStem(_ path: String) -> String {
  ((path as NSString).lastPathComponent as NSString).deletingPathExtension
}
