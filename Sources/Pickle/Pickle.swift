import Foundation

/// A pickle that was refused or is malformed: names the source and the byte.
public struct PickleError: Error, CustomStringConvertible, Sendable {
  /// Where the pickle came from.
  public let source: String
  /// What is wrong.
  public let message: String
  /// "source: message".
  public var description: String { "\(source): \(message)" }
}

/// A value produced by the restricted unpickler.
public indirect enum PickleValue: CustomStringConvertible {
  case none
  case bool(Bool)
  case int(Int)
  case float(Double)
  case string(String)
  case bytes(Data)
  case tuple([PickleValue])
  case list(PickleList)
  case dict(PickleDict)
  /// An allowed global (module, name), before it is called.
  case global(String, String)
  /// A torch storage reference: its key in the archive, element type, element count.
  case storage(key: String, type: String, count: Int)
  /// A tensor view of a storage.
  case tensor(TorchTensorRef)
  /// An argparse.Namespace, read as a plain record.
  case namespace(PickleDict)

  /// A short rendering for messages.
  public var description: String {
    switch self {
    case .none: return "None"
    case .bool(let b): return b ? "True" : "False"
    case .int(let i): return String(i)
    case .float(let f): return String(f)
    case .string(let s): return "'\(s)'"
    case .bytes(let d): return "bytes(\(d.count))"
    case .tuple(let t): return "(" + t.map(\.description).joined(separator: ", ") + ")"
    case .list(let l): return "[" + l.items.map(\.description).joined(separator: ", ") + "]"
    case .dict(let d): return "{" + d.pairs.map { "\($0.0): \($0.1)" }.joined(separator: ", ") + "}"
    case .global(let m, let n): return "\(m).\(n)"
    case .storage(let k, let t, let c): return "\(t)(key \(k), \(c))"
    case .tensor(let t): return "tensor\(t.shape)"
    case .namespace(let d):
      return "Namespace(" + d.pairs.map { "\($0.0)=\($0.1)" }.joined(separator: ", ") + ")"
    }
  }

  /// The string, if this is one.
  public var string: String? {
    if case .string(let s) = self { return s }
    return nil
  }
}

/// A mutable pickled list (pickle appends after creating it).
public final class PickleList { public var items: [PickleValue] = [] }

extension PickleValue {
  /// Tuples, lists, dicts and namespaces: values that hold other values.
  var isContainer: Bool {
    switch self {
    case .tuple, .list, .dict, .namespace: return true
    default: return false
    }
  }
}

/// A mutable pickled dict, keeping insertion order.
public final class PickleDict {
  /// Key/value pairs in insertion order.
  public var pairs: [(PickleValue, PickleValue)] = []
  /// The value for a string key.
  public subscript(key: String) -> PickleValue? { pairs.last { $0.0.string == key }?.1 }
}

/// A tensor as torch's `_rebuild_tensor_v2` describes it.
public struct TorchTensorRef {
  /// Storage key (file `data/<key>` in the archive).
  public let key: String
  /// Storage type (`FloatStorage`, …).
  public let storageType: String
  /// Element offset into the storage.
  public let offset: Int
  /// Shape.
  public let shape: [Int]
  /// Element strides.
  public let stride: [Int]

  /// The storage element the tensor's last element sits at (offset + Σ (shape − 1)·stride), or nil
  /// when that overflows; `offset` for an empty tensor.
  public static func lastElement(offset: Int, shape: [Int], stride: [Int]) -> Int? {
    if shape.contains(0) { return offset }
    var last = offset
    for (extent, step) in zip(shape, stride) {
      let (p, o1) = (extent - 1).multipliedReportingOverflow(by: step)
      let (sum, o2) = last.addingReportingOverflow(p)
      if o1 || o2 { return nil }
      last = sum
    }
    return last
  }
}

/// A pickle reader that accepts only what a PyTorch checkpoint needs and refuses everything else.
/// It never imports or calls anything: the few allowed globals (tensor and storage rebuilders,
/// OrderedDict, argparse.Namespace) are interpreted by this code, and any other global — os.system,
/// builtins.eval, any class — is an error naming it. Opcodes outside the protocol-2..5 subset that
/// torch.save writes are refused as well.
public struct RestrictedUnpickler {
  /// The storage classes a state_dict may use, with their element size.
  public static let storageTypes: [String: Int] = [
    "FloatStorage": 4, "DoubleStorage": 8, "HalfStorage": 2, "BFloat16Storage": 2, "LongStorage": 8,
    "IntStorage": 4, "ShortStorage": 2, "CharStorage": 1, "ByteStorage": 1, "BoolStorage": 1,
  ]

  static func allowed(_ module: String, _ name: String) -> Bool {
    switch (module, name) {
    case ("torch._utils", "_rebuild_tensor_v2"), ("torch._utils", "_rebuild_parameter"),
      ("collections", "OrderedDict"), ("argparse", "Namespace"):
      return true
    case ("torch", let n): return storageTypes[n] != nil
    default: return false
    }
  }

  /// Reads one pickle.
  /// The deepest nesting of containers a checkpoint may hold (a state_dict needs 3 or 4).
  public static let maxNesting = 64

  /// How deeply containers nest in `v`, counted up to `limit` + 1 (so a cycle ends the walk).
  static func nestingDepth(_ v: PickleValue, limit: Int) -> Int {
    guard limit >= 0 else { return 1 }
    func deepest(_ items: [PickleValue]) -> Int {
      var d = 0
      for item in items where item.isContainer {
        d = max(d, nestingDepth(item, limit: limit - 1))
        if d > limit { break }
      }
      return 1 + d
    }
    switch v {
    case .tuple(let t): return deepest(t)
    case .list(let l): return deepest(l.items)
    case .dict(let d), .namespace(let d): return deepest(d.pairs.flatMap { [$0.0, $0.1] })
    default: return 0
    }
  }

  public static func load(_ data: Data, source: String = "<pickle>") throws -> PickleValue {
    var r = Reader(bytes: [UInt8](data), source: source)
    return try r.run()
  }

  /// The pickle starting at byte `offset` of `bytes` (files that hold several in a row, as the
  /// legacy torch.save format does) and the offset just after its STOP.
  public static func load(_ bytes: [UInt8], at offset: Int, source: String = "<pickle>") throws
    -> (value: PickleValue, end: Int)
  {
    var r = Reader(bytes: bytes, source: source)
    r.pos = max(0, min(offset, bytes.count))
    let v = try r.run()
    return (v, r.pos)
  }

  struct Reader {
    let bytes: [UInt8]
    let source: String
    var pos = 0
    var stack: [PickleValue] = []
    var marks: [Int] = []
    var memo: [Int: PickleValue] = [:]

    func fail(_ m: String) -> PickleError {
      PickleError(source: source, message: "pickle refused at byte \(pos): \(m)")
    }

    mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
      guard n >= 0, n <= bytes.count - pos else {
        throw fail("truncated data (\(n) bytes asked for, \(bytes.count - pos) left)")
      }
      defer { pos += n }
      return bytes[pos..<(pos + n)]
    }
    mutating func uint(_ n: Int) throws -> Int {
      try take(n).reversed().reduce(0) { $0 << 8 | Int($1) }
    }
    mutating func line() throws -> String {
      guard let end = bytes[pos...].firstIndex(of: 0x0A) else { throw fail("unterminated line") }
      defer { pos = end + 1 }
      return String(decoding: bytes[pos..<end], as: UTF8.self)
    }
    mutating func pop() throws -> PickleValue {
      guard let v = stack.popLast() else { throw fail("stack underflow") }
      return v
    }
    mutating func popMark() throws -> [PickleValue] {
      guard let m = marks.popLast(), m <= stack.count else { throw fail("no MARK") }
      defer { stack.removeSubrange(m...) }
      return Array(stack[m...])
    }
    mutating func utf8(_ n: Int) throws -> PickleValue {
      .string(String(decoding: try take(n), as: UTF8.self))
    }

    mutating func run() throws -> PickleValue {
      while pos < bytes.count {
        let op = bytes[pos]
        pos += 1
        switch op {
        case 0x80: _ = try take(1)  // PROTO
        case 0x95: _ = try take(8)  // FRAME
        case 0x2E: return try pop()  // STOP
        case 0x28: marks.append(stack.count)  // MARK
        case 0x7D: stack.append(.dict(PickleDict()))  // EMPTY_DICT
        case 0x5D: stack.append(.list(PickleList()))  // EMPTY_LIST
        case 0x29: stack.append(.tuple([]))  // EMPTY_TUPLE
        case 0x74: stack.append(try nested(.tuple(try popMark())))  // TUPLE
        case 0x85: stack.append(try nested(.tuple([try pop()])))  // TUPLE1
        case 0x86:
          let b = try pop(), a = try pop()
          stack.append(try nested(.tuple([a, b])))  // TUPLE2
        case 0x87:
          let c = try pop(), b = try pop(), a = try pop()
          stack.append(try nested(.tuple([a, b, c])))  // TUPLE3
        case 0x71: memo[try uint(1)] = stack.last  // BINPUT
        case 0x72: memo[try uint(4)] = stack.last  // LONG_BINPUT
        case 0x94: memo[memo.count] = stack.last  // MEMOIZE
        case 0x68, 0x6A:  // BINGET, LONG_BINGET
          let k = try uint(op == 0x68 ? 1 : 4)
          guard let v = memo[k] else { throw fail("memo \(k) undefined") }
          stack.append(v)
        case 0x4A: stack.append(.int(Int(Int32(truncatingIfNeeded: try uint(4)))))  // BININT
        case 0x4B: stack.append(.int(try uint(1)))  // BININT1
        case 0x4D: stack.append(.int(try uint(2)))  // BININT2
        case 0x8A:  // LONG1
          let n = try uint(1)
          guard n <= 8 else { throw fail("integer of \(n) bytes") }
          let raw = try take(n)
          var v = raw.reversed().reduce(0) { $0 << 8 | Int($1) }
          if n > 0 && n < 8, let top = raw.last, top & 0x80 != 0 { v -= 1 << (8 * n) }
          stack.append(.int(v))
        case 0x47:  // BINFLOAT: 8 bytes, big-endian
          let raw = try take(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
          stack.append(.float(Double(bitPattern: raw)))
        case 0x58: stack.append(try utf8(try uint(4)))  // BINUNICODE
        case 0x8C: stack.append(try utf8(try uint(1)))  // SHORT_BINUNICODE
        case 0x8D: stack.append(try utf8(try uint(8)))  // BINUNICODE8
        case 0x54: stack.append(try utf8(try uint(4)))  // BINSTRING
        case 0x55: stack.append(try utf8(try uint(1)))  // SHORT_BINSTRING
        case 0x42: stack.append(.bytes(Data(try take(try uint(4)))))  // BINBYTES
        case 0x43: stack.append(.bytes(Data(try take(try uint(1)))))  // SHORT_BINBYTES
        case 0x4E: stack.append(.none)
        case 0x88: stack.append(.bool(true))
        case 0x89: stack.append(.bool(false))
        case 0x61:  // APPEND
          let v = try pop()
          guard let target = stack.last, case .list(let l) = target else {
            throw fail("APPEND to a non-list")
          }
          l.items.append(v)
          try checkInsertion([v], into: target)
        case 0x65:  // APPENDS
          let vs = try popMark()
          guard let target = stack.last, case .list(let l) = target else {
            throw fail("APPENDS to a non-list")
          }
          l.items += vs
          try checkInsertion(vs, into: target)
        case 0x73:  // SETITEM
          let v = try pop(), k = try pop()
          guard let target = stack.last, case .dict(let d) = target else {
            throw fail("SETITEM on a non-dict")
          }
          d.pairs.append((k, v))
          try checkInsertion([k, v], into: target)
        case 0x75:  // SETITEMS
          let vs = try popMark()
          guard let target = stack.last, case .dict(let d) = target, vs.count % 2 == 0 else {
            throw fail("SETITEMS on a non-dict")
          }
          for i in stride(from: 0, to: vs.count, by: 2) { d.pairs.append((vs[i], vs[i + 1])) }
          try checkInsertion(vs, into: target)
        case 0x63:  // GLOBAL
          let module = try line(), name = try line()
          try push(global: module, name)
        case 0x93:  // STACK_GLOBAL
          guard let name = try pop().string, let module = try pop().string else {
            throw fail("STACK_GLOBAL needs two strings")
          }
          try push(global: module, name)
        case 0x52:  // REDUCE
          let args = try pop(), callable = try pop()
          stack.append(try call(callable, args))
        case 0x81:  // NEWOBJ
          let args = try pop(), cls = try pop()
          stack.append(try call(cls, args))
        case 0x62:  // BUILD
          let state = try pop()
          guard let target = stack.last else { throw fail("BUILD without an object") }
          switch (target, state) {
          case (.namespace(let ns), .dict(let d)):
            ns.pairs += d.pairs
            try checkInsertion(d.pairs.map(\.1), into: target)
          case (.dict, .none), (.tensor, _), (.dict, .dict): break
          default: throw fail("BUILD on \(target)")
          }
        case 0x51:  // BINPERSID
          let pid = try pop()
          // ('storage', type, key, location, count), and in the legacy format a sixth entry, the
          // view's geometry, which must be None (views of storages are not read).
          guard case .tuple(let t) = pid, t.count == 5 || t.count == 6, t[0].string == "storage",
            case .global(_, let type) = t[1],
            let key = t[2].string, case .int(let n) = t[4]
          else { throw fail("unknown persistent id \(pid)") }
          if t.count == 6, case .none = t[5] {
          } else if t.count == 6 {
            throw fail("a storage view (\(t[5])) is not supported")
          }
          stack.append(.storage(key: key, type: type, count: n))
        default:
          throw fail(String(format: "opcode 0x%02X is not allowed", op))
        }
      }
      throw fail("no STOP")
    }

    /// A new container, refused when it nests deeper than `maxNesting` (deep values overflow the
    /// stack when printed or freed).
    func nested(_ v: PickleValue) throws -> PickleValue {
      guard
        RestrictedUnpickler.nestingDepth(v, limit: RestrictedUnpickler.maxNesting)
          <= RestrictedUnpickler.maxNesting
      else {
        throw fail("containers nested more than \(RestrictedUnpickler.maxNesting) deep")
      }
      return v
    }

    /// After items went into a mutable container: too deep, or the container now reaches itself (a
    /// self-referencing list or dict), is refused. Scalars and tensors cannot close a cycle: no
    /// walk.
    func checkInsertion(_ items: [PickleValue], into target: PickleValue) throws {
      guard items.contains(where: \.isContainer) else { return }
      guard
        RestrictedUnpickler.nestingDepth(target, limit: RestrictedUnpickler.maxNesting)
          <= RestrictedUnpickler.maxNesting
      else {
        // Empty the container: a cycle through it would otherwise outlive the refused pickle (ARC).
        switch target {
        case .list(let l): l.items.removeAll()
        case .dict(let d), .namespace(let d): d.pairs.removeAll()
        default: break
        }
        throw fail(
          """
          a container that contains itself, or containers nested more than \
          \(RestrictedUnpickler.maxNesting) deep
          """
        )
      }
    }

    mutating func push(global module: String, _ name: String) throws {
      guard RestrictedUnpickler.allowed(module, name) else {
        throw fail(
          """
          global '\(module).\(name)' is not allowed (a checkpoint needs only torch tensor \
          rebuilders, OrderedDict and argparse.Namespace)
          """
        )
      }
      stack.append(.global(module, name))
    }

    func ints(_ v: PickleValue) throws -> [Int] {
      guard case .tuple(let t) = v else { throw fail("expected a tuple of ints, got \(v)") }
      return try t.map {
        if case .int(let i) = $0 { return i }
        throw fail("expected an int, got \($0)")
      }
    }

    func call(_ callable: PickleValue, _ args: PickleValue) throws -> PickleValue {
      guard case .global(let module, let name) = callable, case .tuple(let a) = args else {
        throw fail("call of \(callable)")
      }
      switch (module, name) {
      case ("collections", "OrderedDict"): return .dict(PickleDict())
      case ("argparse", "Namespace"): return .namespace(PickleDict())
      case ("torch._utils", "_rebuild_tensor_v2"):
        guard a.count >= 4, case .storage(let key, let type, let n) = a[0],
          case .int(let offset) = a[1]
        else {
          throw fail("bad _rebuild_tensor_v2 arguments")
        }
        let shape = try ints(a[2]), stride = try ints(a[3])
        guard shape.count == stride.count, shape.count <= 16, shape.allSatisfy({ $0 >= 0 }),
          stride.allSatisfy({ $0 >= 0 }), offset >= 0, n >= 0
        else {
          throw fail(
            """
            bad tensor geometry: shape \(shape), stride \(stride), offset \(offset) (negative \
            strides are refused)
            """
          )
        }
        guard let last = TorchTensorRef.lastElement(offset: offset, shape: shape, stride: stride)
        else {
          throw fail("tensor geometry shape \(shape), stride \(stride) overflows")
        }
        guard last < max(n, 1) || shape.contains(0) else {
          throw fail("tensor reaches element \(last) of a storage of \(n)")
        }
        return .tensor(
          TorchTensorRef(key: key, storageType: type, offset: offset, shape: shape, stride: stride))
      case ("torch._utils", "_rebuild_parameter"):
        guard let t = a.first, case .tensor = t else {
          throw fail("bad _rebuild_parameter arguments")
        }
        return t
      default:
        throw fail("'\(module).\(name)' cannot be called")
      }
    }
  }
}
