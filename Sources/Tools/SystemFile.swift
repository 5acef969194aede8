import Glibc

/// The first line of a small text file such as /proc/self/statm or a sysfs entry, without its
/// newline (at most 255 bytes); nil when it cannot be read or is empty.
func firstLine(ofFile path: String) -> String? {
  guard let f = fopen(path, "r") else { return nil }
  defer { fclose(f) }
  var buffer = [CChar](repeating: 0, count: 256)
  guard fgets(&buffer, 256, f) != nil else { return nil }
  let line = String(
    decoding: buffer.prefix { $0 != 0 && $0 != 10 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  return line.isEmpty ? nil : line
}
