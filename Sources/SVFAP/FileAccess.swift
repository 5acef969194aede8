import Foundation
import SafeFiles

/// The bytes of a regular file; a folder, a device (/dev/zero) or a FIFO is refused instead of read
/// without end.
public func readRegularFile(_ path: String) throws -> Data {
  do { return try SafeFile.read(path) } catch {
    throw SVFAPError.badFile(path: path, message: error.reason)
  }
}

/// Writes `data` atomically (`SafeFile.writeAtomically`: a temporary file renamed over `path`;
/// folders, FIFOs, devices and symbolic links refused), errors as `SVFAPError.badFile`.
public func writeAtomically(_ data: Data, to path: String) throws {
  do { try SafeFile.writeAtomically(data, to: path) } catch {
    throw SVFAPError.badFile(path: path, message: error.reason)
  }
}

/// Removes `.NAME.tmp-PID` files in `folder` whose process is gone (a save killed before its
/// rename).
public func removeStaleTemporaries(in folder: String) {
  SafeFile.removeStaleTemporaries(in: folder)
}

/// A path's file name without its extension ("runs/pre.jsonl" → "pre").
public func fileStem(_ path: String) -> String {
  ((path as NSString).lastPathComponent as NSString).deletingPathExtension
}
