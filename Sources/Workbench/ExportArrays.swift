import Foundation
import SVFAP
import SafeFiles
import Script
import Tensor

/// A session value as named arrays, for the files Python reads (`export`): tensors keep their
/// shape and precision, lists of numbers become 1-D arrays, lists of equal-length lists 2-D
/// arrays, lists of strings string columns, records one array per field (nested fields
/// `a.b`), a model its run's log (step, loss, lr, grad_norm, clips_per_second).
struct ExportArrays {
  /// One named array.
  enum Column {
    /// Numbers (float64) of a shape.
    case numbers([Double], shape: [Int])
    /// A tensor as it is.
    case tensor(Tensor)
    /// Strings (paths, class names).
    case strings([String])

    /// The array's shape.
    var shape: [Int] {
      switch self {
      case .numbers(_, let shape): return shape
      case .tensor(let t): return t.shape
      case .strings(let s): return [s.count]
      }
    }
  }

  /// The arrays in the value's order.
  private(set) var columns: [(name: String, column: Column)] = []
  /// Parts of a record that are not data (masks, models inside a record), left out and said.
  private(set) var skipped: [String] = []

  /// The arrays of `value`, the top one named `name`.
  init(_ value: Value, name: String) throws {
    try add(value, name: name, top: true)
    guard !columns.isEmpty else {
      throw ExportError("\(value.typeName) holds no numbers or strings to export")
    }
  }

  private mutating func add(_ value: Value, name: String, top: Bool) throws {
    switch value {
    case .number(let x): columns.append((name, .numbers([x], shape: [])))
    case .bool(let b): columns.append((name, .numbers([b ? 1 : 0], shape: [])))
    case .string(let s): columns.append((name, .strings([s])))
    case .nilValue: skipped.append(name)
    case .list(let items): columns.append((name, try Self.column(items, name: name)))
    case .record(let r):
      for (key, v) in r.pairs { try add(v, name: top ? key : name + "." + key, top: false) }
    case .handle(let h as TensorHandle): columns.append((name, .tensor(h.tensor)))
    case .handle(let m as ModelHandle) where top:
      guard let log = m.run?.log, !log.isEmpty else {
        throw ExportError("the model has no training steps in this session to export")
      }
      let n = [log.count]
      columns += [
        ("step", .numbers(log.map { Double($0.step) }, shape: n)),
        ("loss", .numbers(log.map(\.loss), shape: n)), ("lr", .numbers(log.map(\.lr), shape: n)),
        ("grad_norm", .numbers(log.map(\.gradNorm), shape: n)),
        ("clips_per_second", .numbers(log.map(\.clipsPerSecond), shape: n)),
      ]
    case .handle(let h):
      guard !top else { throw ExportError("a \(h.typeName) holds no arrays to export") }
      skipped.append(name)
    default:
      guard !top else { throw ExportError("a \(value.typeName) holds no arrays to export") }
      skipped.append(name)
    }
  }

  /// A list as one array: numbers, strings, or equal-length lists of numbers.
  private static func column(_ items: [Value], name: String) throws -> Column {
    if items.allSatisfy({ if case .string = $0 { true } else { false } }) && !items.isEmpty {
      return .strings(items.map { if case .string(let s) = $0 { s } else { "" } })
    }
    var flat: [Double] = []
    var width: Int?, sawNumber = false
    for (i, item) in items.enumerated() {
      switch item {
      case .number, .bool:
        guard width == nil else { throw mixed(name, i) }
        sawNumber = true
        flat.append(item == .bool(true) ? 1 : item == .bool(false) ? 0 : item.numberValue)
      case .list(let row):
        guard !sawNumber else { throw mixed(name, i) }
        let numbers = try row.map { v -> Double in
          guard case .number(let x) = v else {
            throw ExportError("\(name)[\(i)] holds a \(v.typeName): rows must hold numbers")
          }
          return x
        }
        guard width == nil || width == numbers.count else {
          throw ExportError(
            "\(name)[\(i)] has \(numbers.count) values, the rows before it \(width ?? 0)")
        }
        width = numbers.count
        flat += numbers
      default:
        throw ExportError(
          "\(name)[\(i)] is a \(item.typeName): a list exports as numbers, strings or rows of numbers"
        )
      }
    }
    return .numbers(flat, shape: width.map { [items.count, $0] } ?? [items.count])
  }

  private static func mixed(_ name: String, _ i: Int) -> ExportError {
    ExportError("\(name)[\(i)] mixes numbers and rows: a list exports as one or the other")
  }
}

/// Why a value cannot be exported as asked.
struct ExportError: Error, CustomStringConvertible {
  let description: String
  init(_ d: String) { description = d }
}

extension Value {
  /// The number of a `.number` (0 otherwise).
  fileprivate var numberValue: Double {
    if case .number(let x) = self { return x }
    return 0
  }
}
