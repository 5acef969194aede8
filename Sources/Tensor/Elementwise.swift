/// Broadcasting arithmetic (NumPy rules) and element-wise functions, each with its backward rule.
extension Tensor {
  /// The broadcast shape of two shapes, or nil.
  static func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
    let r = max(a.count, b.count)
    var out = [Int](repeating: 1, count: r)
    for i in 0..<r {
      let da = i < r - a.count ? 1 : a[i - (r - a.count)]
      let db = i < r - b.count ? 1 : b[i - (r - b.count)]
      if da != db && da != 1 && db != 1 { return nil }
      out[i] = da == 1 ? db : da
    }
    return out
  }

  /// Element strides of `shape` read as `target` (0 on broadcast axes).
  static func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
    let r = target.count, off = r - shape.count
    var strides = [Int](repeating: 0, count: r)
    var s = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) {
      strides[i + off] = shape[i] == 1 ? 0 : s
      s *= shape[i]
    }
    return strides
  }

  /// a (op) b with broadcasting.
  func binary(_ op: BinaryOp, _ other: Tensor, name: String) throws -> Tensor {
    guard dtype == other.dtype else {
      throw TensorError.dtypeMismatch(op: name, lhs: dtype, rhs: other.dtype)
    }
    guard let outShape = Tensor.broadcastShape(shape, other.shape) else {
      throw TensorError.shapeMismatch(op: name, lhs: shape, rhs: other.shape)
    }
    let out = Tensor(uninitialized: outShape, dtype: dtype)
    k.binary(
      op, raw, Tensor.broadcastStrides(shape, to: outShape), other.raw,
      Tensor.broadcastStrides(other.shape, to: outShape), out.raw, outShape)
    let a = self, b = other
    return record(out, [a, b]) { g in
      switch op {
      case .add: return [try g.sum(to: a.shape), try g.sum(to: b.shape)]
      case .sub: return [try g.sum(to: a.shape), try g.sum(to: b.shape).negated()]
      case .mul:
        return [
          a.requiresGrad ? try (g * b).sum(to: a.shape) : nil,
          b.requiresGrad ? try (g * a).sum(to: b.shape) : nil,
        ]
      case .div:
        return [
          a.requiresGrad ? try (g / b).sum(to: a.shape) : nil,
          b.requiresGrad ? try (g * a / (b * b)).negated().sum(to: b.shape) : nil,
        ]
      }
    }
  }

  /// Sums broadcast axes away so that the result has `target` shape (the backward of broadcasting).
  public func sum(to target: [Int]) throws -> Tensor {
    if shape == target { return self }
    guard Tensor.broadcastShape(target, shape) == shape else {
      throw TensorError.shapeMismatch(op: "sum(to:)", lhs: shape, rhs: target)
    }
    var t = self
    let off = rank - target.count
    for axis in stride(from: rank - 1, through: 0, by: -1) {
      let want = axis < off ? 1 : target[axis - off]
      if t.shape[axis] != want { t = try t.sum(axis: axis, keepDim: true) }
    }
    return try t.reshaped(target)
  }

  /// y = a * x + b element-wise (a and b constants).
  public func affine(_ a: Double, _ b: Double = 0) -> Tensor {
    let out = Tensor(uninitialized: shape, dtype: dtype)
    k.affine(raw, out.raw, count, a: a, b: b)
    return record(out, [self]) { g in [g.affine(a)] }
  }

  /// -x.
  public func negated() -> Tensor { affine(-1) }

  /// Applies a unary function with its derivative.
  public func unary(_ op: UnaryOp) -> Tensor {
    let out = Tensor(uninitialized: shape, dtype: dtype)
    k.unary(op, raw, out.raw, count)
    let x = self
    return record(out, [x]) { g in
      let gx = Tensor(uninitialized: x.shape, dtype: x.dtype)
      x.k.unaryBackward(op, x.raw, out.raw, g.raw, gx.raw, x.count)
      return [gx]
    }
  }

  /// Exact (erf) GELU.
  public func gelu() -> Tensor { unary(.gelu) }
  /// Logistic sigmoid.
  public func sigmoid() -> Tensor { unary(.sigmoid) }
  /// Hyperbolic tangent.
  public func tanh() -> Tensor { unary(.tanh) }
  /// max(x, 0).
  public func relu() -> Tensor { unary(.relu) }
  /// e^x.
  public func exp() -> Tensor { unary(.exp) }
  /// Natural logarithm.
  public func log() -> Tensor { unary(.log) }
  /// x².
  public func square() -> Tensor { unary(.square) }
  /// √x.
  public func sqrt() -> Tensor { unary(.sqrt) }
}

/// Element-wise sum with broadcasting.
public func + (a: Tensor, b: Tensor) throws -> Tensor { try a.binary(.add, b, name: "add") }
/// Element-wise difference with broadcasting.
public func - (a: Tensor, b: Tensor) throws -> Tensor { try a.binary(.sub, b, name: "sub") }
/// Element-wise product with broadcasting.
public func * (a: Tensor, b: Tensor) throws -> Tensor { try a.binary(.mul, b, name: "mul") }
/// Element-wise quotient with broadcasting.
public func / (a: Tensor, b: Tensor) throws -> Tensor { try a.binary(.div, b, name: "div") }
/// Multiplies every element by a constant.
public func * (a: Tensor, s: Double) -> Tensor { a.affine(s) }
/// Adds a constant to every element.
public func + (a: Tensor, s: Double) -> Tensor { a.affine(1, s) }
