/// A dense, contiguous, row-major n-d array of Float or Double that records the ops applied to it
/// so that `backward()` can compute gradients (reverse-mode autograd). Tensors are reference types,
/// as in PyTorch: a parameter is one object that the model, the optimizer and the checkpoint code
/// share.
public final class Tensor {
  /// The extent of each axis.
  public let shape: [Int]
  /// The element type.
  public let dtype: DType
  /// The memory (shared by `reshaped` views).
  let storage: Storage
  /// Whether gradients flow to this tensor; parameters and inputs under test set it.
  public var requiresGrad: Bool
  /// The accumulated gradient after `backward()` (leaf tensors only).
  public var grad: Tensor?
  /// The op that produced this tensor, while a graph is recorded.
  var node: Node?

  init(shape: [Int], dtype: DType, storage: Storage, requiresGrad: Bool = false) {
    self.shape = shape
    self.dtype = dtype
    self.storage = storage
    self.requiresGrad = requiresGrad
  }

  /// An uninitialized tensor (contents undefined: for kernels that write every element).
  package init(uninitialized shape: [Int], dtype: DType) {
    self.shape = shape
    self.dtype = dtype
    self.storage = Storage(byteCount: shape.reduce(1, *) * dtype.size)
    self.requiresGrad = false
  }

  /// Number of elements.
  public var count: Int { shape.reduce(1, *) }
  /// Number of axes.
  public var rank: Int { shape.count }
  /// Raw pointer to the first element.
  package var raw: UnsafeMutableRawPointer { storage.base }
  /// The kernels of this tensor's dtype.
  var k: KernelDispatch { KernelDispatch(s: dtype.kernels) }

  /// Typed pointer to the elements (the type must match `dtype`); valid only while this tensor is
  /// held: a freed tensor's buffer is reused by the next tensor of its size.
  public func pointer<T: BinaryFloatingPoint>(_ type: T.Type) -> UnsafeMutablePointer<T> {
    storage.pointer(T.self)
  }

  /// Calls `body` with the raw little-endian element bytes.
  public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
    try body(UnsafeRawBufferPointer(start: raw, count: count * dtype.size))
  }

  /// A tensor filled with `value`.
  public static func full(_ shape: [Int], _ value: Double, dtype: DType = .float32) -> Tensor {
    let t = Tensor(uninitialized: shape, dtype: dtype)
    if value == 0 {
      t.raw.initializeMemory(as: UInt8.self, repeating: 0, count: t.count * dtype.size)
    } else {
      for i in 0..<t.count { dtype.kernels.store(t.raw, i, value) }
    }
    return t
  }

  /// Zeros.
  public static func zeros(_ shape: [Int], dtype: DType = .float32) -> Tensor {
    full(shape, 0, dtype: dtype)
  }
  /// Ones.
  public static func ones(_ shape: [Int], dtype: DType = .float32) -> Tensor {
    full(shape, 1, dtype: dtype)
  }

  /// A tensor holding `values` (row-major) with the given shape.
  public convenience init(_ values: [Float], shape: [Int]) throws {
    guard values.count == shape.reduce(1, *) else {
      throw TensorError.invalidArgument(
        op: "Tensor", message: "\(values.count) values for shape \(shape)")
    }
    self.init(uninitialized: shape, dtype: .float32)
    values.withUnsafeBufferPointer {
      if let b = $0.baseAddress { raw.copyMemory(from: b, byteCount: values.count * 4) }
    }
  }

  /// A tensor holding `values` (row-major) with the given shape and dtype.
  public convenience init(_ values: [Double], shape: [Int], dtype: DType = .float64) throws {
    guard values.count == shape.reduce(1, *) else {
      throw TensorError.invalidArgument(
        op: "Tensor", message: "\(values.count) values for shape \(shape)")
    }
    self.init(uninitialized: shape, dtype: dtype)
    let k = dtype.kernels
    for (i, v) in values.enumerated() { k.store(raw, i, v) }
  }

  /// A scalar (0-d) tensor.
  public static func scalar(_ v: Double, dtype: DType = .float32) -> Tensor {
    full([], v, dtype: dtype)
  }

  /// Normal(0, std) samples from a seeded generator.
  public static func randn(
    _ shape: [Int], std: Double = 1, dtype: DType = .float32, rng: inout SplitMix64
  ) -> Tensor {
    let t = Tensor(uninitialized: shape, dtype: dtype)
    for i in 0..<t.count { dtype.kernels.store(t.raw, i, rng.nextNormal() * std) }
    return t
  }

  /// Uniform(lo, hi) samples from a seeded generator.
  public static func uniform(
    _ shape: [Int], _ lo: Double, _ hi: Double, dtype: DType = .float32, rng: inout SplitMix64
  ) -> Tensor {
    let t = Tensor(uninitialized: shape, dtype: dtype)
    for i in 0..<t.count { dtype.kernels.store(t.raw, i, lo + (hi - lo) * rng.nextDouble()) }
    return t
  }

  /// All elements as Double, row-major.
  public func toDoubles() -> [Double] { (0..<count).map { k.load(raw, $0) } }
  /// All elements as Float, row-major.
  public func toFloats() -> [Float] { (0..<count).map { Float(k.load(raw, $0)) } }
  /// Element `i` (row-major flat index) as Double.
  public subscript(flat i: Int) -> Double {
    get { k.load(raw, i) }
    set { k.store(raw, i, newValue) }
  }
  /// The value of a one-element tensor.
  public func item() throws -> Double {
    guard count == 1 else {
      throw TensorError.invalidArgument(
        op: "item", message: "tensor of shape \(shape) has \(count) elements")
    }
    return k.load(raw, 0)
  }

  /// A copy in another dtype (no graph is recorded through the conversion unless it is
  /// differentiable).
  public func to(_ target: DType) -> Tensor {
    if target == dtype { return self }
    let out = Tensor(uninitialized: shape, dtype: target)
    let src = k, dst = target.kernels
    for i in 0..<count { dst.store(out.raw, i, src.load(raw, i)) }
    return record(out, [self]) { g in [g.to(self.dtype)] }
  }

  /// A deep copy that does not share memory (and records no graph).
  public func copy() -> Tensor {
    let out = Tensor(uninitialized: shape, dtype: dtype)
    out.raw.copyMemory(from: raw, byteCount: count * dtype.size)
    return out
  }

  /// The same values, cut from the graph.
  public func detached() -> Tensor { Tensor(shape: shape, dtype: dtype, storage: storage) }

  /// Overwrites this tensor's values with `other`'s (same shape and count; dtype converted).
  public func assign(_ other: Tensor) throws {
    guard other.count == count else {
      throw TensorError.shapeMismatch(op: "assign", lhs: shape, rhs: other.shape)
    }
    if other.dtype == dtype {
      raw.copyMemory(from: other.raw, byteCount: count * dtype.size)
    } else {
      for i in 0..<count { k.store(raw, i, other.k.load(other.raw, i)) }
    }
  }

  /// Number of NaN or infinite elements (the trainer's check before a step).
  public func nonFiniteCount() -> Int { k.countNonFinite(raw, count) }

  /// Throws `TensorError.nonFinite` when any element is NaN or infinite.
  public func checkFinite(_ what: String) throws {
    let n = nonFiniteCount()
    if n > 0 { throw TensorError.nonFinite(what: what, count: n) }
  }
}

extension Tensor: CustomStringConvertible {
  /// One line: shape, dtype and the first values.
  public var description: String {
    let head = (0..<min(count, 6)).map { String(format6(k.load(raw, $0))) }.joined(separator: ", ")
    return
      """
      Tensor(\(shape), \(dtype)\(requiresGrad ? ", grad" : ""): \
      [\(head)\(count > 6 ? ", …" : "")])
      """
  }
}

/// Formats a number with up to 6 significant digits.
func format6(_ v: Double) -> String {
  if v == v.rounded() && abs(v) < 1e9 { return String(Int(v)) }
  var s = String(v)
  if s.count > 10 { s = String(s.prefix(10)) }
  return s
}
