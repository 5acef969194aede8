import Glibc

/// Reshaping and data movement: views, permutes, concat, slices, token gathers, repeats.
/// Movement kernels copy bytes, so one implementation serves every dtype.
extension Tensor {
  /// The same elements with another shape (shares memory; one axis may be -1).
  public func reshaped(_ newShape: [Int]) throws -> Tensor {
    var s = newShape
    if let i = s.firstIndex(of: -1) {
      let known = s.enumerated().filter { $0.offset != i }.map(\.element).reduce(1, *)
      guard known > 0, count % known == 0 else {
        throw TensorError.shapeMismatch(op: "reshape", lhs: shape, rhs: newShape)
      }
      s[i] = count / known
    }
    guard s.reduce(1, *) == count, !s.contains(where: { $0 < 0 }) else {
      throw TensorError.shapeMismatch(op: "reshape", lhs: shape, rhs: newShape)
    }
    let out = Tensor(shape: s, dtype: dtype, storage: storage)
    let old = shape
    return record(out, [self]) { g in [try g.reshaped(old)] }
  }

  /// Axes reordered: out axis d is input axis perm[d].
  public func permuted(_ perm: [Int]) throws -> Tensor {
    guard perm.count == rank, Set(perm) == Set(0..<rank) else {
      throw TensorError.invalidArgument(
        op: "permute", message: "\(perm) is not a permutation of the axes of \(shape)")
    }
    if perm == Array(0..<rank) { return self }
    let outShape = perm.map { shape[$0] }
    let out = Tensor(uninitialized: outShape, dtype: dtype)
    var inStrides = [Int](repeating: 1, count: rank)
    for d in stride(from: rank - 2, through: 0, by: -1) {
      inStrides[d] = inStrides[d + 1] * shape[d + 1]
    }
    let src = perm.map { inStrides[$0] }
    permuteCopy(raw, out.raw, outShape, src, dtype.size)
    var inverse = [Int](repeating: 0, count: rank)
    for (d, p) in perm.enumerated() { inverse[p] = d }
    return record(out, [self]) { g in [try g.permuted(inverse)] }
  }

  /// Swaps two axes.
  public func transposed(_ a: Int = -2, _ b: Int = -1) throws -> Tensor {
    let a = try axisIndex(a, "transpose"), b = try axisIndex(b, "transpose")
    var perm = Array(0..<rank)
    perm.swapAt(a, b)
    return try permuted(perm)
  }

  /// Joins tensors along an axis; all other extents must agree.
  public static func concat(_ parts: [Tensor], axis: Int) throws -> Tensor {
    guard let first = parts.first else {
      throw TensorError.invalidArgument(op: "concat", message: "no tensors")
    }
    let a = try first.axisIndex(axis, "concat")
    for p in parts {
      guard p.dtype == first.dtype else {
        throw TensorError.dtypeMismatch(op: "concat", lhs: first.dtype, rhs: p.dtype)
      }
      guard p.rank == first.rank,
        p.shape.enumerated().allSatisfy({ $0.offset == a || $0.element == first.shape[$0.offset] })
      else {
        throw TensorError.shapeMismatch(op: "concat", lhs: first.shape, rhs: p.shape)
      }
    }
    var outShape = first.shape
    outShape[a] = parts.map { $0.shape[a] }.reduce(0, +)
    let out = Tensor(uninitialized: outShape, dtype: first.dtype)
    let outer = outShape[..<a].reduce(1, *),
      inner = outShape[(a + 1)...].reduce(1, *) * first.dtype.size
    let rowBytes = outShape[a] * inner
    var offset = 0
    Profile.measure(.copies) {
      for p in parts {
        let bytes = p.shape[a] * inner
        for o in 0..<outer { memcpy(out.raw + o * rowBytes + offset, p.raw + o * bytes, bytes) }
        offset += bytes
      }
    }
    let sizes = parts.map { $0.shape[a] }
    return first.record(out, parts) { g in
      var start = 0
      return try sizes.map { n in
        defer { start += n }
        return try g.slice(axis: a, start: start, count: n)
      }
    }
  }

  /// Elements `start ..< start+count` along an axis (a copy).
  public func slice(axis: Int, start: Int, count n: Int) throws -> Tensor {
    let a = try axisIndex(axis, "slice")
    guard start >= 0, n >= 0, start + n <= shape[a] else {
      throw TensorError.invalidArgument(
        op: "slice",
        message: "range \(start)..<\(start + n) out of bounds for axis \(a) of \(shape)")
    }
    var outShape = shape
    outShape[a] = n
    let out = Tensor(uninitialized: outShape, dtype: dtype)
    let outer = shape[..<a].reduce(1, *), inner = shape[(a + 1)...].reduce(1, *) * dtype.size
    Profile.measure(.copies) {
      for o in 0..<outer {
        memcpy(out.raw + o * n * inner, raw + (o * shape[a] + start) * inner, n * inner)
      }
    }
    let full = shape
    return record(out, [self]) { g in
      let gx = Tensor.zeros(full, dtype: g.dtype)
      for o in 0..<outer {
        memcpy(gx.raw + (o * full[a] + start) * inner, g.raw + o * n * inner, n * inner)
      }
      return [gx]
    }
  }

  /// Splits an axis into parts of the given sizes.
  public func split(axis: Int, sizes: [Int]) throws -> [Tensor] {
    var start = 0
    return try sizes.map { n in
      defer { start += n }
      return try slice(axis: axis, start: start, count: n)
    }
  }

  /// Rows of a (B, N, C) tensor picked per batch item: out[b, j] = x[b, indices[b][j]] -> (B, K,
  /// C).
  public func gatherRows(_ indices: [[Int]]) throws -> Tensor {
    guard rank == 3, indices.count == shape[0], let kk = indices.first?.count,
      indices.allSatisfy({ $0.count == kk })
    else {
      throw TensorError.invalidArgument(
        op: "gatherRows",
        message:
          "need (B, N, C) and B equal-length index lists; got \(shape) and \(indices.map(\.count))")
    }
    let (b, n, c) = (shape[0], shape[1], shape[2])
    for list in indices {
      for i in list where i < 0 || i >= n {
        throw TensorError.invalidArgument(
          op: "gatherRows", message: "index \(i) out of range 0..<\(n)")
      }
    }
    let out = Tensor(uninitialized: [b, kk, c], dtype: dtype)
    let row = c * dtype.size
    Profile.measure(.copies) {
      for bi in 0..<b {
        for (j, i) in indices[bi].enumerated() {
          memcpy(out.raw + (bi * kk + j) * row, raw + (bi * n + i) * row, row)
        }
      }
    }
    return record(out, [self]) { g in [try g.scatterRows(indices, count: n)] }
  }

  /// The adjoint of `gatherRows`: a zero (B, count, C) tensor with rows added at the indices.
  public func scatterRows(_ indices: [[Int]], count n: Int) throws -> Tensor {
    guard rank == 3, indices.count == shape[0], indices.allSatisfy({ $0.count == shape[1] }) else {
      throw TensorError.invalidArgument(
        op: "scatterRows", message: "need (B, K, C) and B index lists of length K; got \(shape)")
    }
    let (b, kk, c) = (shape[0], shape[1], shape[2])
    let out = Tensor.zeros([b, n, c], dtype: dtype)
    for bi in 0..<b {
      for (j, i) in indices[bi].enumerated() {
        guard i >= 0 && i < n else {
          throw TensorError.invalidArgument(
            op: "scatterRows", message: "index \(i) out of range 0..<\(n)")
        }
        let dst = out.raw + (bi * n + i) * c * dtype.size,
          src = raw + (bi * kk + j) * c * dtype.size
        k.binary(.add, dst, [1], src, [1], dst, [c])
      }
    }
    return record(out, [self]) { g in [try g.gatherRows(indices)] }
  }

  /// Each slice along `axis` repeated `times` times in place (PyTorch's repeat_interleave).
  public func repeatInterleave(_ times: Int, axis: Int) throws -> Tensor {
    let a = try axisIndex(axis, "repeatInterleave")
    guard times >= 1 else {
      throw TensorError.invalidArgument(
        op: "repeatInterleave", message: "times must be >= 1, got \(times)")
    }
    if times == 1 { return self }
    var outShape = shape
    outShape[a] *= times
    let out = Tensor(uninitialized: outShape, dtype: dtype)
    let outer = shape[..<a].reduce(1, *) * shape[a],
      inner = shape[(a + 1)...].reduce(1, *) * dtype.size
    for o in 0..<outer {
      for r in 0..<times { memcpy(out.raw + (o * times + r) * inner, raw + o * inner, inner) }
    }
    let s = shape
    return record(out, [self]) { g in
      var split = s
      split.insert(times, at: a + 1)
      return [try g.reshaped(split).sum(axis: a + 1)]
    }
  }
}

/// Copies `src` (read through `srcStrides`, in elements) into contiguous `dst` of shape `shape`.
func permuteCopy(
  _ src: UnsafeRawPointer, _ dst: UnsafeMutableRawPointer, _ shape: [Int], _ srcStrides: [Int],
  _ es: Int
) {
  let rank = shape.count
  let total = shape.reduce(1, *)
  if total == 0 { return }
  // Merge a contiguous last axis into a block copy.
  let blockContiguous = srcStrides[rank - 1] == 1
  let inner = shape[rank - 1]
  let outerCount = total / inner
  let srcInnerStride = srcStrides[rank - 1]
  Profile.measure(.copies) {
    permuteRows(outerCount, inner, shape, srcStrides, blockContiguous, srcInnerStride, src, dst, es)
  }
}

/// The rows of `permuteCopy`, split over threads.
private func permuteRows(
  _ outerCount: Int, _ inner: Int, _ shape: [Int], _ srcStrides: [Int], _ blockContiguous: Bool,
  _ srcInnerStride: Int, _ src: UnsafeRawPointer, _ dst: UnsafeMutableRawPointer, _ es: Int
) {
  let rank = shape.count
  parallelRange(outerCount, costPerItem: inner) { s, e in
    var index = outerIndex(ofRow: s, shape)
    for row in s..<e {
      var off = 0
      for d in 0..<(rank - 1) { off &+= index[d] &* srcStrides[d] }
      let out = dst + row &* inner &* es
      if blockContiguous {
        memcpy(out, src + off &* es, inner &* es)
      } else if es == 4 {
        let sp = (src + off &* 4).assumingMemoryBound(to: UInt32.self),
          dp = out.assumingMemoryBound(to: UInt32.self)
        for j in 0..<inner { dp[j] = sp[j &* srcInnerStride] }
      } else {
        let sp = (src + off &* 8).assumingMemoryBound(to: UInt64.self),
          dp = out.assumingMemoryBound(to: UInt64.self)
        for j in 0..<inner { dp[j] = sp[j &* srcInnerStride] }
      }
      advanceOuterIndex(&index, shape)
    }
  }
}

/// The index over all axes but the last of row `row` of a row-major `shape` (an odometer's
/// position).
@inline(__always) func outerIndex(ofRow row: Int, _ shape: [Int]) -> [Int] {
  var index = [Int](repeating: 0, count: max(shape.count - 1, 0))
  var rem = row
  for d in stride(from: shape.count - 2, through: 0, by: -1) {
    index[d] = rem % shape[d]
    rem /= shape[d]
  }
  return index
}

/// Advances an odometer over all axes but the last by one row.
@inline(__always) func advanceOuterIndex(_ index: inout [Int], _ shape: [Int]) {
  var d = shape.count - 2
  while d >= 0 {
    index[d] += 1
    if index[d] < shape[d] { return }
    index[d] = 0
    d -= 1
  }
}

/// The number of elements of `shape`, or nil when a dimension is negative or the product overflows
/// (shapes read from files or asked for by scripts are checked with it before anything is
/// allocated).
public func checkedElementCount(_ shape: [Int]) -> Int? {
  var n = 1
  for d in shape {
    guard d >= 0 else { return nil }
    let (p, overflow) = n.multipliedReportingOverflow(by: d)
    if overflow { return nil }
    n = p
  }
  return n
}
