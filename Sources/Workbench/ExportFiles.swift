import Foundation
import SVFAP
import SafeFiles
import Tensor

/// Writes `ExportArrays` as .safetensors (every array; strings as JSON in the metadata), .npy (one
/// numeric array) or .csv (equal-length columns, 2-D arrays as one column per value, single
/// values as `# name = value` lines numpy and pandas skip as comments), atomically.
enum ExportFiles {
  /// The formats by file extension.
  static let extensions = ["safetensors", "npy", "csv"]

  /// Writes the arrays to `path` in the format its extension names.
  static func write(_ arrays: ExportArrays, to path: String) throws {
    let ext = (path as NSString).pathExtension.lowercased()
    let data: Data
    switch ext {
    case "safetensors":
      try safetensors(arrays, to: path)
      return
    case "npy": data = try npy(arrays)
    case "csv": data = try csv(arrays)
    default:
      throw ExportError(
        "'\(SafeFile.printable(path))': export writes .safetensors, .npy or .csv, not .\(ext)")
    }
    do { try SafeFile.writeAtomically(data, to: path) } catch {
      throw ExportError("cannot write \(SafeFile.printable(path)): \(error.reason)")
    }
  }

  /// Every array as a tensor (numbers in float64), strings in the metadata under `strings.NAME`.
  static func safetensors(_ arrays: ExportArrays, to path: String) throws {
    var tensors: [String: Tensor] = [:], metadata = ["svfap.export": "svfap workbench export"]
    for (name, column) in arrays.columns {
      switch column {
      case .tensor(let t): tensors[name] = t
      case .numbers(let v, let shape): tensors[name] = try Tensor(v, shape: shape)
      case .strings(let s):
        let json = try JSONSerialization.data(withJSONObject: s)
        metadata["strings." + name] = String(decoding: json, as: UTF8.self)
      }
    }
    do { try SafeTensorsFile.write(tensors, metadata: metadata, to: path) } catch {
      throw ExportError("cannot write \(SafeFile.printable(path)): \(error)")
    }
  }

  /// One numeric array in NumPy's format 1.0 (little-endian float32 or float64, C order).
  static func npy(_ arrays: ExportArrays) throws -> Data {
    let numeric = arrays.columns.filter { if case .strings = $0.column { false } else { true } }
    guard arrays.columns.count == 1, let (_, column) = numeric.first else {
      let names = arrays.columns.map(\.name).prefix(6).joined(separator: ", ")
      throw ExportError(
        """
        a .npy file holds one numeric array; this value has \(arrays.columns.count) (\(names)): \
        export one of them (e.g. r.\(arrays.columns.first?.name ?? "x")), or write .safetensors \
        or .csv
        """)
    }
    let shape = column.shape
    var body = Data()
    let descr: String
    switch column {
    case .tensor(let t) where t.dtype == .float32:
      descr = "<f4"
      for x in t.toFloats() {
        withUnsafeBytes(of: x.bitPattern.littleEndian) { body.append(contentsOf: $0) }
      }
    case .tensor(let t):
      descr = "<f8"
      for x in t.toDoubles() {
        withUnsafeBytes(of: x.bitPattern.littleEndian) { body.append(contentsOf: $0) }
      }
    case .numbers(let v, _):
      descr = "<f8"
      for x in v { withUnsafeBytes(of: x.bitPattern.littleEndian) { body.append(contentsOf: $0) } }
    case .strings: throw ExportError("strings do not go into a .npy file")
    }
    let dims =
      shape.count == 1
      ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
    var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(dims), }"
    let unpadded = 10 + header.utf8.count + 1
    header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
    var out = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
    let length = UInt16(header.utf8.count)
    out.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
    out.append(Data(header.utf8))
    out.append(body)
    return out
  }

  /// Columns of equal length with a header line; single values as comment lines above.
  static func csv(_ arrays: ExportArrays) throws -> Data {
    var comments: [String] = [], names: [String] = [], cells: [[String]] = []
    for (name, column) in arrays.columns {
      let shape = column.shape
      switch column {
      case .numbers(let v, _) where shape.isEmpty:
        comments.append("# \(name) = \(number(v[0]))")
      case .strings(let s) where s.count == 1 && arrays.columns.count > 1:
        comments.append("# \(name) = \(s[0].replacingOccurrences(of: "\n", with: " "))")
      case .strings(let s):
        names.append(name)
        cells.append(s.map(quoted))
      default:
        let values: [Double]
        if case .tensor(let t) = column {
          values = t.toDoubles()
        } else if case .numbers(let v, _) =
          column
        {
          values = v
        } else {
          values = []
        }
        switch shape.count {
        case 0: comments.append("# \(name) = \(number(values.first ?? .nan))")
        case 1:
          names.append(name)
          cells.append(values.map(number))
        case 2:
          let (rows, width) = (shape[0], shape[1])
          for j in 0..<width {
            names.append("\(name)_\(j)")
            cells.append((0..<rows).map { number(values[$0 * width + j]) })
          }
        default:
          throw ExportError(
            "\(name) is \(shape.count)-D \(shape): a .csv file holds columns; write .npy or .safetensors"
          )
        }
      }
    }
    if let first = cells.first?.count,
      let (k, other) = cells.enumerated().first(where: { $0.element.count != first })
    {
      throw ExportError(
        """
        the columns have different lengths (\(names[0]): \(first), \(names[k]): \(other.count)): \
        export one of them, or write .safetensors
        """)
    }
    var text = comments.map { $0 + "\n" }.joined()
    if !names.isEmpty {
      text += names.map(quoted).joined(separator: ",") + "\n"
      for r in 0..<(cells.first?.count ?? 0) {
        text += cells.map { $0[r] }.joined(separator: ",") + "\n"
      }
    }
    return Data(text.utf8)
  }

  /// A number as it round-trips (NaN and infinities as numpy reads them).
  static func number(_ x: Double) -> String {
    if x.isNaN { return "nan" }
    if x.isInfinite { return x > 0 ? "inf" : "-inf" }
    return x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : "\(x)"
  }

  /// A CSV field, quoted when it holds a comma, quote or line break.
  static func quoted(_ s: String) -> String {
    guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else {
      return s
    }
    return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
  }
}
