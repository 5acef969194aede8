import Glibc

/// Blocks of a 5-D tensor picked by index and flattened into rows, without unfolding the blocks
/// nobody asked for (what `unfold` + `gatherRows` give, in one pass over the picked blocks only).
extension Tensor {
  /// The blocks of a (B, C, D1, D2, D3) tensor, cut into (b1, b2, b3) blocks over its last three
  /// axes, at `indices` (per batch item, equally many), each flattened in (C, b1, b2, b3) order:
  /// (B, K, C·b1·b2·b3). Block n is (i, j, l) over the (D1/b1, D2/b2, D3/b3) grid,
  /// n = (i·D2/b2 + j)·D3/b3 + l — the rows `indices` picks from
  /// `reshaped([B, C, D1/b1, b1, D2/b2, b2, D3/b3, b3]).permuted([0, 2, 4, 6, 1, 3, 5, 7])`.
  public func gatherBlocks(_ indices: [[Int]], block: (Int, Int, Int)) throws -> Tensor {
    let geometry = try BlockGeometry(shape, indices, block: block)
    let out = Tensor(uninitialized: [geometry.b, geometry.k, geometry.values], dtype: dtype)
    let es = dtype.size, run = geometry.b3 * es  // one block row: b3 contiguous elements
    Profile.measure(.copies) {
      geometry.forEachRun { src, dst in memcpy(out.raw + dst * es, raw + src * es, run) }
    }
    let inShape = shape
    return record(out, [self]) { g in
      // The adjoint: every row added back where it came from (indices may repeat).
      let gx = Tensor.zeros(inShape, dtype: g.dtype)
      geometry.forEachRun { src, dst in
        g.k.binary(
          .add, gx.raw + src * es, [1], g.raw + dst * es, [1], gx.raw + src * es, [geometry.b3])
      }
      return [gx]
    }
  }
}

/// Where each block row of `gatherBlocks` comes from and goes to, checked once.
struct BlockGeometry {
  let b: Int, k: Int, values: Int
  let (c, d1, d2, d3, b1, b2, b3): (Int, Int, Int, Int, Int, Int, Int)
  let indices: [[Int]]

  init(_ shape: [Int], _ indices: [[Int]], block: (Int, Int, Int)) throws {
    func fail(_ message: String) -> TensorError {
      .invalidArgument(op: "gatherBlocks", message: message)
    }
    guard shape.count == 5 else { throw fail("need a (B, C, D1, D2, D3) tensor, got \(shape)") }
    let (b, c, d1, d2, d3) = (shape[0], shape[1], shape[2], shape[3], shape[4])
    let (b1, b2, b3) = block
    guard b1 >= 1, b2 >= 1, b3 >= 1, d1 % b1 == 0, d2 % b2 == 0, d3 % b3 == 0 else {
      throw fail("blocks of \(b1)x\(b2)x\(b3) do not tile a tensor \(shape)")
    }
    guard indices.count == b, let k = indices.first?.count, indices.allSatisfy({ $0.count == k })
    else {
      throw fail("need \(b) equal-length index lists, got \(indices.map(\.count))")
    }
    let blocks = (d1 / b1) * (d2 / b2) * (d3 / b3)
    for list in indices {
      for i in list where i < 0 || i >= blocks {
        throw fail("block \(i) out of range 0..<\(blocks)")
      }
    }
    (self.b, self.k, values) = (b, k, c * b1 * b2 * b3)
    (self.c, self.d1, self.d2, self.d3, self.b1, self.b2, self.b3) = (c, d1, d2, d3, b1, b2, b3)
    self.indices = indices
  }

  /// Calls `body(source, destination)` with the element offsets of every block row (b3 elements)
  /// in the tensor and in the (B, K, values) rows.
  func forEachRun(_ body: (Int, Int) -> Void) {
    let (g2, g3) = (d2 / b2, d3 / b3)
    for bi in 0..<b {
      for (j, n) in indices[bi].enumerated() {
        let (i1, rest) = n.quotientAndRemainder(dividingBy: g2 * g3)
        let (i2, i3) = rest.quotientAndRemainder(dividingBy: g3)
        var dst = (bi * k + j) * values
        for ch in 0..<c {
          for o1 in 0..<b1 {
            let plane = ((bi * c + ch) * d1 + i1 * b1 + o1) * d2
            for o2 in 0..<b2 {
              body((plane + i2 * b2 + o2) * d3 + i3 * b3, dst)
              dst += b3
            }
          }
        }
      }
    }
  }
}
