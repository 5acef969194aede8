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
    guard let obj = try? JSONSerialization.jsonObject(with: headerData),
      let header = obj as? [String: Any]
    else {
      throw fail("the header is not a JSON object")
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
    self.entries = entries
    self.metadata = meta
    self.data = d
  }

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
    _ tensors: [String: Tensor], metadata: [String: String] = [:], to path: String
  ) throws {
    var header: [String: Any] = [:]
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
