import Foundation
import Pickle
import SafeFiles
import Tensor
import ZIPFoundation

/// Reads PyTorch `.pth` files written by `torch.save` (a zip archive holding `data.pkl` and one
/// file per storage) through `RestrictedUnpickler`: the state_dict's floating-point tensors, plus
/// the other top-level entries (epoch, the argparse.Namespace of training arguments) as plain
/// values.
public struct TorchCheckpoint {
  /// Tensors by state_dict name, as float32 (or float64 for double storages).
  public var tensors: [String: Tensor] = [:]
  /// Non-tensor top-level entries (`epoch`, `args`, …).
  public var extras: [String: PickleValue] = [:]

  /// Reads `path`. The state_dict is the top-level dict or its "model" / "module" / "state_dict"
  /// entry.
  public init(path: String) throws {
    var st = stat()
    guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
      throw SVFAPError.badFile(path: path, message: "is not a readable regular file")
    }
    if let legacy = try Self.legacyBytes(path) {
      try readLegacy(legacy, path: path)
      return
    }
    let archive: Archive
    do { archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read) } catch {
      throw SVFAPError.badFile(
        path: path, message: "not a zip archive as torch.save writes (\(error))")
    }
    guard
      let pkl = archive.first(where: { $0.path.hasSuffix("/data.pkl") || $0.path == "data.pkl" })
    else {
      throw SVFAPError.badFile(
        path: path,
        message: "no data.pkl in the archive (a legacy, non-zip torch.save file is not supported)")
    }
    let prefix = String(pkl.path.dropLast("data.pkl".count))
    /// An entry's bytes, at most `limit` of them (a zip bomb stops there), checked against its
    /// CRC-32.
    func read(_ entry: Entry, limit: Int = 1 << 30) throws -> Data {
      guard entry.uncompressedSize <= UInt64(limit) else {
        throw SVFAPError.badFile(
          path: path,
          message:
            """
            \(entry.path) unpacks to \(entry.uncompressedSize) bytes, more than the \(limit) it \
            may need
            """
        )
      }
      var d = Data()
      do {
        _ = try archive.extract(entry, skipCRC32: true) { chunk in
          guard d.count + chunk.count <= limit else {
            throw SVFAPError.badFile(
              path: path, message: "\(entry.path) unpacks to more than \(limit) bytes")
          }
          d.append(chunk)
        }
      } catch let e as SVFAPError { throw e } catch {
        throw SVFAPError.badFile(path: path, message: "cannot unpack \(entry.path): \(error)")
      }
      guard d.crc32(checksum: 0) == entry.checksum else {
        throw SVFAPError.badFile(
          path: path, message: "\(entry.path) fails its CRC-32 check (the file is corrupt)")
      }
      return d
    }
    if let bo = archive[prefix + "byteorder"],
      String(decoding: try read(bo), as: UTF8.self) != "little"
    {
      throw SVFAPError.badFile(path: path, message: "big-endian checkpoints are not supported")
    }
    let root: PickleValue
    do {
      root = try RestrictedUnpickler.load(try read(pkl), source: path + ":" + pkl.path)
    } catch let e as PickleError {
      throw SVFAPError.badFile(path: path, message: e.message)
    }
    guard case .dict(let top) = root else {
      throw SVFAPError.badFile(path: path, message: "the pickle holds \(root), not a dict")
    }
    var state = top
    for key in ["model", "module", "state_dict"] {
      if case .dict(let d)? = top[key] {
        state = d
        break
      }
    }
    for (k, v) in top.pairs where state !== top {
      if let name = k.string, !["model", "module", "state_dict"].contains(name) {
        extras[name] = v
      }
    }
    var storages: [String: Data] = [:]
    for (k, v) in state.pairs {
      guard let name = k.string else { continue }
      guard case .tensor(let ref) = v else {
        extras[name] = v
        continue
      }
      let storage: Data
      if let read = storages[ref.key] {
        storage = read
      } else {
        guard let e = archive[prefix + "data/" + ref.key] else {
          throw SVFAPError.badFile(
            path: path, message: "storage \(ref.key) of '\(name)' is missing")
        }
        // Unpacked only as far as the tensors that use it need (plus slack for unused tail
        // elements).
        let need =
          state.pairs.compactMap { p -> Int? in
            guard case .tensor(let r) = p.1, r.key == ref.key else { return nil }
            return Self.bytesNeeded(r)
          }.max() ?? 0
        storage = try read(e, limit: max(need, 0) * 2 + (1 << 20))
        storages[ref.key] = storage
      }
      tensors[name] = try Self.materialize(ref, storage, name: name, path: path)
    }
  }

  /// The first pickle of the legacy (non-zip) torch.save format: the magic number
  /// 0x1950a86a20f9469cfc6c as a protocol-2 LONG1.
  static let legacyMagic: [UInt8] = [
    0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19, 0x2E,
  ]

  /// The file's bytes when it is a legacy torch.save file (at most 1 GiB), else nil.
  static func legacyBytes(_ path: String) throws -> [UInt8]? {
    guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
    defer { try? handle.close() }
    guard let head = try? handle.read(upToCount: legacyMagic.count), [UInt8](head) == legacyMagic
    else { return nil }
    let data: Data
    do { data = try SafeFile.read(path, limit: 1 << 30) } catch {
      throw SVFAPError.badFile(path: path, message: "cannot read it: \(error.reason)")
    }
    return [UInt8](data)
  }

  /// Reads the legacy format: the magic pickle, the protocol version, the system info, the
  /// state_dict (storages by persistent id), the list of storage keys, then each storage as an
  /// 8-byte little-endian element count and its raw little-endian elements.
  mutating func readLegacy(_ bytes: [UInt8], path: String) throws {
    do {
      var offset = Self.legacyMagic.count
      var (version, end) = try RestrictedUnpickler.load(bytes, at: offset, source: path)
      guard case .int(1001) = version else {
        throw SVFAPError.badFile(path: path, message: "legacy format version \(version), not 1001")
      }
      let (info, afterInfo) = try RestrictedUnpickler.load(bytes, at: end, source: path)
      if case .dict(let d) = info, case .bool(false)? = d["little_endian"] {
        throw SVFAPError.badFile(path: path, message: "big-endian checkpoints are not supported")
      }
      let root: PickleValue
      (root, end) = try RestrictedUnpickler.load(bytes, at: afterInfo, source: path)
      let keysValue: PickleValue
      (keysValue, offset) = try RestrictedUnpickler.load(bytes, at: end, source: path)
      guard case .list(let keyList) = keysValue else {
        throw SVFAPError.badFile(path: path, message: "no list of storage keys after the state")
      }
      guard case .dict(let state) = root else {
        throw SVFAPError.badFile(path: path, message: "the pickle holds \(root), not a dict")
      }
      var refs: [(String, TorchTensorRef)] = []
      for (k, v) in state.pairs {
        guard let name = k.string else { continue }
        if case .tensor(let ref) = v { refs.append((name, ref)) } else { extras[name] = v }
      }
      var storages: [String: Data] = [:]
      for item in keyList.items {
        guard let key = item.string else {
          throw SVFAPError.badFile(path: path, message: "a storage key is \(item)")
        }
        guard let type = refs.first(where: { $0.1.key == key })?.1.storageType,
          let size = RestrictedUnpickler.storageTypes[type]
        else {
          throw SVFAPError.badFile(path: path, message: "storage \(key) has no known element type")
        }
        guard offset + 8 <= bytes.count else {
          throw SVFAPError.badFile(path: path, message: "storage \(key) is cut short")
        }
        let count = bytes[offset..<offset + 8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        offset += 8
        let (length, overflow) = Int(clamping: count).multipliedReportingOverflow(by: size)
        guard !overflow, length <= bytes.count - offset else {
          throw SVFAPError.badFile(
            path: path, message: "storage \(key) claims \(count) elements, more than the file holds"
          )
        }
        storages[key] = Data(bytes[offset..<offset + length])
        offset += length
      }
      for (name, ref) in refs {
        guard let storage = storages[ref.key] else {
          throw SVFAPError.badFile(
            path: path, message: "storage \(ref.key) of '\(name)' is missing")
        }
        tensors[name] = try Self.materialize(ref, storage, name: name, path: path)
      }
    } catch let e as PickleError {
      throw SVFAPError.badFile(path: path, message: e.message)
    }
  }

  /// Bytes of storage a tensor reaches (overflow-checked; nil when the geometry cannot be).
  static func bytesNeeded(_ ref: TorchTensorRef) -> Int? {
    let size = RestrictedUnpickler.storageTypes[ref.storageType] ?? 0
    guard let count = checkedElementCount(ref.shape), ref.stride.allSatisfy({ $0 >= 0 }),
      ref.offset >= 0
    else { return nil }
    if count == 0 { return 0 }
    guard
      let last = TorchTensorRef.lastElement(
        offset: ref.offset, shape: ref.shape, stride: ref.stride)
    else { return nil }
    let (bytes, o) = (last + 1).multipliedReportingOverflow(by: size)
    return o ? nil : bytes
  }

  static func materialize(_ ref: TorchTensorRef, _ data: Data, name: String, path: String) throws
    -> Tensor
  {
    let size = RestrictedUnpickler.storageTypes[ref.storageType] ?? 0
    guard let count = checkedElementCount(ref.shape), let need = bytesNeeded(ref) else {
      throw SVFAPError.badFile(
        path: path,
        message:
          """
          '\(name)' has an impossible geometry: shape \(ref.shape), stride \(ref.stride), \
          offset \(ref.offset)
          """
      )
    }
    guard need <= data.count else {
      throw SVFAPError.badFile(
        path: path, message: "'\(name)' needs \(need) bytes but its storage has \(data.count)")
    }
    // Overlapping strides (expand) could make a few bytes into any number of elements: refused.
    guard size > 0, count <= data.count / size else {
      throw SVFAPError.badFile(
        path: path,
        message:
          """
          '\(name)' of shape \(ref.shape) has more elements than its storage holds \
          (\(data.count / max(size, 1)))
          """
      )
    }
    // Element index of each row-major position, through the strides.
    var offsets = [Int](repeating: ref.offset, count: count)
    var step = count
    for (extent, stride) in zip(ref.shape, ref.stride) where extent > 0 {
      step /= extent
      for i in 0..<count { offsets[i] += ((i / step) % extent) * stride }
    }
    return try data.withUnsafeBytes { p in
      switch ref.storageType {
      case "FloatStorage":
        return try Tensor(
          offsets.map {
            Float(bitPattern: p.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))
          }, shape: ref.shape)
      case "DoubleStorage":
        return try Tensor(
          offsets.map {
            Double(bitPattern: p.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self))
          }, shape: ref.shape)
      case "HalfStorage":
        return try Tensor(
          offsets.map {
            Float(Float16(bitPattern: p.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self)))
          }, shape: ref.shape)
      case "BFloat16Storage":
        return try Tensor(
          offsets.map {
            Float(
              bitPattern: UInt32(p.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self)) << 16)
          }, shape: ref.shape)
      case "LongStorage":
        return try Tensor(
          offsets.map { Double(p.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) },
          shape: ref.shape, dtype: .float64)
      default:
        throw SVFAPError.badFile(
          path: path, message: "'\(name)' uses \(ref.storageType), which is not a weight type")
      }
    }
  }
}
