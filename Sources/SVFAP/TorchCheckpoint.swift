import Foundation
import Pickle
import Tensor
import ZIPFoundation

/// Reads PyTorch `.pth` files written by `torch.save` (a zip archive holding `data.pkl` and one file per
/// storage) through `RestrictedUnpickler`: the state_dict's floating-point tensors, plus the other
/// top-level entries (epoch, the argparse.Namespace of training arguments) as plain values.
public struct TorchCheckpoint {
  /// Tensors by state_dict name, as float32 (or float64 for double storages).
  public var tensors: [String: Tensor] = [:]
  /// Non-tensor top-level entries (`epoch`, `args`, …).
  public var extras: [String: PickleValue] = [:]

  /// Reads `path`. The state_dict is the top-level dict or its "model" / "module" / "state_dict" entry.
  public init(path: String) throws {
    let archive: Archive
    do { archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read) } catch {
      throw SVFAPError.badFile(path: path, message: "not a zip archive as torch.save writes (\(error))")
    }
    guard let pkl = archive.first(where: { $0.path.hasSuffix("/data.pkl") || $0.path == "data.pkl" }) else {
      throw SVFAPError.badFile(path: path, message: "no data.pkl in the archive (a legacy, non-zip torch.save file is not supported)")
    }
    let prefix = String(pkl.path.dropLast("data.pkl".count))
    func read(_ entry: Entry) throws -> Data {
      var d = Data()
      _ = try archive.extract(entry, skipCRC32: false) { d.append($0) }
      return d
    }
    if let bo = archive[prefix + "byteorder"], String(decoding: try read(bo), as: UTF8.self) != "little" {
      throw SVFAPError.badFile(path: path, message: "big-endian checkpoints are not supported")
    }
    let root: PickleValue
    do { root = try RestrictedUnpickler.load(try read(pkl), source: path + ":" + pkl.path) } catch let e as PickleError {
      throw SVFAPError.badFile(path: path, message: e.message)
    }
    guard case .dict(let top) = root else { throw SVFAPError.badFile(path: path, message: "the pickle holds \(root), not a dict") }
    var state = top
    for key in ["model", "module", "state_dict"] {
      if case .dict(let d)? = top[key] {
        state = d
        break
      }
    }
    for (k, v) in top.pairs where state !== top {
      if let name = k.string, !["model", "module", "state_dict"].contains(name) { extras[name] = v }
    }
    var storages: [String: Data] = [:]
    for (k, v) in state.pairs {
      guard let name = k.string else { continue }
      guard case .tensor(let ref) = v else {
        extras[name] = v
        continue
      }
      if storages[ref.key] == nil {
        guard let e = archive[prefix + "data/" + ref.key] else {
          throw SVFAPError.badFile(path: path, message: "storage \(ref.key) of '\(name)' is missing")
        }
        storages[ref.key] = try read(e)
      }
      tensors[name] = try Self.materialize(ref, storages[ref.key]!, name: name, path: path)
    }
  }

  static func materialize(_ ref: TorchTensorRef, _ data: Data, name: String, path: String) throws -> Tensor {
    let size = RestrictedUnpickler.storageTypes[ref.storageType] ?? 0
    let count = ref.shape.reduce(1, *)
    let last = count == 0 ? 0 : ref.offset + zip(ref.shape, ref.stride).map { ($0 - 1) * $1 }.reduce(0, +)
    guard (last + 1) * size <= data.count || count == 0 else {
      throw SVFAPError.badFile(path: path, message: "'\(name)' needs \((last + 1) * size) bytes but its storage has \(data.count)")
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
        return try Tensor(offsets.map { Float(bitPattern: p.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)) }, shape: ref.shape)
      case "DoubleStorage":
        return try Tensor(offsets.map { Double(bitPattern: p.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self)) }, shape: ref.shape)
      case "HalfStorage":
        return try Tensor(offsets.map { Float(Float16(bitPattern: p.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self))) }, shape: ref.shape)
      case "BFloat16Storage":
        return try Tensor(offsets.map { Float(bitPattern: UInt32(p.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self)) << 16) }, shape: ref.shape)
      case "LongStorage":
        return try Tensor(offsets.map { Double(p.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) }, shape: ref.shape, dtype: .float64)
      default:
        throw SVFAPError.badFile(path: path, message: "'\(name)' uses \(ref.storageType), which is not a weight type")
      }
    }
  }
}
