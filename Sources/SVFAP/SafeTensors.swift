import Foundation
import Tensor

/// A safetensors file (the format PyTorch users exchange): an 8-byte little-endian header length, a
/// JSON header {name: {dtype, shape, data_offsets}}, then the raw little-endian data. Reading
/// checks every offset and size against the file, so a truncated or hostile file is an error, never
/// a crash.
public struct SafeTensorsFile {
  /// One stored tensor.
  public struct Entry {
    /// "F32", "F64", "I64", "BOOL", …
    public let dtype: String
    /// The extents.
    public let shape: [Int]
    /// Byte range within the data section.
    public let range: Range<Int>
  }

  /// Where it was read from (for messages).
  public let path: String
  /// The entries by name.
  public let entries: [String: Entry]
  /// The `__metadata__` strings.
  public let metadata: [String: String]
  private let data: Data
  private let dataStart: Int

  static let sizes = [
    "F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1,
    "BOOL": 1,
  ]

  /// Reads and validates a file.
  public init(path: String) throws {
    try self.init(data: try readRegularFile(path), path: path)
  }

  /// Parses bytes already in memory.
  public init(data d: Data, path: String = "<memory>") throws {
    self.path = path
    func fail(_ m: String) -> SVFAPError {
      .badFile(path: path, message: "not a valid safetensors file: " + m)
    }
    guard d.count >= 8 else { throw fail("shorter than its 8-byte header length") }
    let n = d.prefix(8).enumerated().reduce(UInt64(0)) {
      $0 | UInt64($1.element) << (8 * UInt64($1.offset))
    }
    guard n <= UInt64(d.count - 8) else {
      throw fail("header length \(n) exceeds the file size \(d.count)")
    }
    let headerData = d.subdata(in: 8..<(8 + Int(n)))
    // UTF-8 JSON only (JSONSerialization would also take UTF-16 or a byte-order mark), each name
    // once (it would keep the last of two).
    guard let headerText = String(data: headerData, encoding: .utf8), !headerData.contains(0),
      !headerData.starts(with: [0xEF, 0xBB, 0xBF])
    else { throw fail("the header is not UTF-8 JSON") }
    guard let obj = try? JSONSerialization.jsonObject(with: headerData),
      let header = obj as? [String: Any]
    else {
      throw fail("the header is not a JSON object")
    }
    let names = topLevelKeys(headerText)
    if let names, names.count != header.count {
      let seen = Dictionary(grouping: names, by: { $0 }).filter { $0.value.count > 1 }.keys.sorted()
      throw fail(
        "the header names \(seen.prefix(3).map { "'\($0)'" }.joined(separator: ", ")) more than once"
      )
    }
    dataStart = 8 + Int(n)
    let dataCount = d.count - dataStart
    var entries: [String: Entry] = [:]
    var meta: [String: String] = [:]
    for (name, value) in header {
      if name == "__metadata__" {
        if let m = value as? [String: String] { meta = m }
        continue
      }
      guard let e = value as? [String: Any], let dtype = e["dtype"] as? String,
        let shape = e["shape"] as? [Int],
        let offs = e["data_offsets"] as? [Int], offs.count == 2
      else { throw fail("entry '\(name)' lacks dtype, shape or data_offsets") }
      guard let size = Self.sizes[dtype] else {
        throw fail("entry '\(name)' has unsupported dtype \(dtype)")
      }
      guard shape.allSatisfy({ $0 >= 0 }), offs[0] >= 0, offs[0] <= offs[1], offs[1] <= dataCount
      else {
        throw fail(
          "entry '\(name)' has offsets \(offs) outside the data section of \(dataCount) bytes")
      }
      let count = checkedElementCount(shape)
      let (bytes, overflowBytes) = (count ?? 0).multipliedReportingOverflow(by: size)
      guard count != nil, !overflowBytes else {
        throw fail("entry '\(name)' of shape \(shape) has more elements than any file can hold")
      }
      guard bytes == offs[1] - offs[0] else {
        throw fail(
          """
          entry '\(name)' of shape \(shape) and dtype \(dtype) needs \(bytes) bytes but has \
          \(offs[1] - offs[0])
          """
        )
      }
      entries[name] = Entry(dtype: dtype, shape: shape, range: offs[0]..<offs[1])
    }
    let end = entries.values.map(\.range.upperBound).max() ?? 0
    guard end == dataCount else {
      throw fail(
        "\(dataCount - end) bytes after the last tensor's data (a truncated or padded file)")
    }
    self.entries = entries
    self.metadata = meta
    self.data = d
  }

  /// The metadata key of the data section's checksum.
  public static let checksumKey = "svfap.data_fnv1a64"

  /// The data section's checksum: FNV-1a over 8-byte words (then the tail bytes), as hex. Training
  /// state files carry it (`svfap.data_fnv1a64`) and `resume` checks it: a flipped bit is caught.
  public var dataChecksum: String { fnv1a64(data, from: dataStart) }

  /// Names, sorted.
  public var names: [String] { entries.keys.sorted() }

  private func bytes(_ name: String) throws -> (Entry, Data) {
    guard let e = entries[name] else {
      throw SVFAPError.badFile(path: path, message: "no tensor named '\(name)'")
    }
    return (
      e, data.subdata(in: (dataStart + e.range.lowerBound)..<(dataStart + e.range.upperBound))
    )
  }

  /// A floating-point tensor, converted to `dtype`.
  public func tensor(_ name: String, dtype: DType? = nil) throws -> Tensor {
    let (e, raw) = try bytes(name)
    let count = e.shape.reduce(1, *)
    switch e.dtype {
    case "F32":
      let values = raw.withUnsafeBytes { p in
        (0..<count).map {
          Float(
            bitPattern: UInt32(
              littleEndian: p.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)))
        }
      }
      let t = try Tensor(values, shape: e.shape)
      return t.to(dtype ?? .float32)
    case "F64":
      let values = raw.withUnsafeBytes { p in
        (0..<count).map {
          Double(
            bitPattern: UInt64(
              littleEndian: p.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self)))
        }
      }
      return try Tensor(values, shape: e.shape, dtype: dtype ?? .float64)
    default:
      throw SVFAPError.badFile(
        path: path, message: "tensor '\(name)' has dtype \(e.dtype), not a float type")
    }
  }

  /// An integer or boolean tensor as Ints (row-major) with its shape.
  public func ints(_ name: String) throws -> (values: [Int], shape: [Int]) {
    let (e, raw) = try bytes(name)
    let count = e.shape.reduce(1, *)
    let values: [Int] = try raw.withUnsafeBytes { p in
      switch e.dtype {
      case "I64":
        return (0..<count).map {
          Int(Int64(littleEndian: p.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)))
        }
      case "I32":
        return (0..<count).map {
          Int(Int32(littleEndian: p.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self)))
        }
      case "BOOL", "U8": return (0..<count).map { Int(p[$0]) }
      default:
        throw SVFAPError.badFile(
          path: path, message: "tensor '\(name)' has dtype \(e.dtype), not an integer type")
      }
    }
    return (values, e.shape)
  }

  /// Writes tensors (float32 or float64, as each is) to `path` atomically: a temporary file in the
  /// same folder, then a rename, so a crash never leaves a half-written file.
  public static func write(
    _ tensors: [String: Tensor], metadata: [String: String] = [:], checksum: Bool = false,
    to path: String
  ) throws {
    var header: [String: Any] = [:]
    var metadata = metadata
    if checksum {
      // The checksum of exactly the bytes written below (the data section), fed tensor by tensor.
      var f = FNV1a64()
      for name in tensors.keys.sorted() { tensors[name]?.withUnsafeBytes { f.add($0) } }
      metadata[checksumKey] = f.hex
    }
    if !metadata.isEmpty { header["__metadata__"] = metadata }
    var offset = 0
    let names = tensors.keys.sorted()
    for name in names {
      guard let t = tensors[name] else { continue }
      let bytes = t.count * t.dtype.size
      header[name] = [
        "dtype": t.dtype == .float32 ? "F32" : "F64", "shape": t.shape,
        "data_offsets": [offset, offset + bytes],
      ]
      offset += bytes
    }
    var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
    while json.count % 8 != 0 { json.append(0x20) }
    var out = Data(capacity: 8 + json.count + offset)
    var n = UInt64(json.count).littleEndian
    withUnsafeBytes(of: &n) { out.append(contentsOf: $0) }
    out.append(json)
    for name in names {
      guard let t = tensors[name] else { continue }
      t.withUnsafeBytes { out.append(contentsOf: $0) }
    }
    try writeAtomically(out, to: path)
  }
}

/// FNV-1a (64-bit) over 8-byte little-endian words, then the last bytes one by one: fed piece by
/// piece (no copy of a large file's tensors), the same as over all the bytes at once.
struct FNV1a64 {
  private var h: UInt64 = 0xcbf2_9ce4_8422_2325
  private var pending: [UInt8] = []  // fewer than 8 bytes not yet hashed as a word
  private static let prime: UInt64 = 0x0000_0100_0000_01b3

  /// Feeds bytes.
  mutating func add(_ bytes: UnsafeRawBufferPointer) {
    var i = 0
    while !pending.isEmpty && pending.count < 8 && i < bytes.count {
      pending.append(bytes[i])
      i += 1
    }
    if pending.count == 8 {
      let word = pending.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
      h = (h ^ word) &* Self.prime
      pending.removeAll()
    }
    while i &+ 8 <= bytes.count {
      h = (h ^ bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* Self.prime
      i &+= 8
    }
    while i < bytes.count {
      pending.append(bytes[i])
      i &+= 1
    }
  }

  /// The hash of everything fed, as hex.
  var hex: String {
    var v = h
    for b in pending { v = (v ^ UInt64(b)) &* Self.prime }
    return String(v, radix: 16)
  }
}

/// FNV1a64 of `data[from...]`.
func fnv1a64(_ data: Data, from start: Int) -> String {
  var f = FNV1a64()
  data.withUnsafeBytes { raw in
    guard start <= raw.count else { return }
    f.add(UnsafeRawBufferPointer(rebasing: raw[start...]))
  }
  return f.hex
}

/// The keys of a JSON object's top level, in order and as decoded, read off the text (nil when the
/// text is not a JSON object as expected): `JSONSerialization` keeps one of two equal keys.
func topLevelKeys(_ text: String) -> [String]? {
  var keys: [String] = []
  var depth = 0, inString = false, escaped = false, expectKey = false
  var current = ""
  for c in text.unicodeScalars {
    if inString {
      current.unicodeScalars.append(c)
      if escaped {
        escaped = false
      } else if c == "\\" {
        escaped = true
      } else if c == "\"" {
        inString = false
        if depth == 1 && expectKey {
          guard let data = "[\(current)]".data(using: .utf8),
            let key = (try? JSONSerialization.jsonObject(with: data)) as? [String], key.count == 1
          else { return nil }
          keys.append(key[0])
          expectKey = false
        }
      }
      continue
    }
    switch c {
    case "\"":
      inString = true
      current = "\""
    case "{", "[":
      depth += 1
      expectKey = depth == 1 && c == "{"
    case "}", "]": depth -= 1
    case ",": if depth == 1 { expectKey = true }
    default: break
    }
  }
  return keys
}
