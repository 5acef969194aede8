import Glibc

/// Tubelets of a video picked by token index, unfolded straight into rows: what the pretraining
/// encoder embeds (its visible tubelets) without unfolding the whole clip first.
extension Tensor {
  /// The tubelets of a video (B, C, T, H, W) at `indices` (per clip, equally many), each flattened
  /// in (C, kt, P, P) order: (B, K, C·kt·P·P). Token n is (t, y, x) over the (T/kt, H/P, W/P)
  /// grid, n = (t·H/P + y)·W/P + x — the rows `indices` picks from
  /// `reshaped([B, C, T/kt, kt, H/P, P, W/P, P]).permuted([0, 2, 4, 6, 1, 3, 5, 7])`.
  public func gatherTubelets(_ indices: [[Int]], tubelet kt: Int, patch p: Int) throws -> Tensor {
    let geometry = try TubeletGeometry(shape, indices, kt: kt, p: p)
    let out = Tensor(uninitialized: [geometry.b, geometry.k, geometry.values], dtype: dtype)
    let es = dtype.size, run = p * es  // one patch row: P contiguous elements
    Profile.measure(.copies) {
      geometry.forEachRun { src, dst in memcpy(out.raw + dst * es, raw + src * es, run) }
    }
    let videoShape = shape
    return record(out, [self]) { g in
      // The adjoint: every row added back where it came from (indices may repeat).
      let gx = Tensor.zeros(videoShape, dtype: g.dtype)
      geometry.forEachRun { src, dst in
        g.k.binary(.add, gx.raw + src * es, [1], g.raw + dst * es, [1], gx.raw + src * es, [p])
      }
      return [gx]
    }
  }
}

/// Where each patch row of a tubelet gather comes from and goes to, checked once.
struct TubeletGeometry {
  let b: Int, k: Int, values: Int
  let (c, t, h, w, kt, p): (Int, Int, Int, Int, Int, Int)
  let indices: [[Int]]

  init(_ shape: [Int], _ indices: [[Int]], kt: Int, p: Int) throws {
    func fail(_ message: String) -> TensorError {
      .invalidArgument(op: "gatherTubelets", message: message)
    }
    guard shape.count == 5 else { throw fail("need a video (B, C, T, H, W), got \(shape)") }
    let (b, c, t, h, w) = (shape[0], shape[1], shape[2], shape[3], shape[4])
    guard kt >= 1, p >= 1, t % kt == 0, h % p == 0, w % p == 0 else {
      throw fail("tubelets of \(kt) frames and \(p)x\(p) pixels do not tile a video \(shape)")
    }
    guard indices.count == b, let k = indices.first?.count, indices.allSatisfy({ $0.count == k })
    else {
      throw fail("need \(b) equal-length index lists, got \(indices.map(\.count))")
    }
    let tokens = (t / kt) * (h / p) * (w / p)
    for list in indices {
      for i in list where i < 0 || i >= tokens {
        throw fail("token \(i) out of range 0..<\(tokens)")
      }
    }
    (self.b, self.k, values) = (b, k, c * kt * p * p)
    (self.c, self.t, self.h, self.w, self.kt, self.p) = (c, t, h, w, kt, p)
    self.indices = indices
  }

  /// Calls `body(source, destination)` with the element offsets of every patch row (P elements)
  /// in the video and in the (B, K, values) rows.
  func forEachRun(_ body: (Int, Int) -> Void) {
    let (gh, gw) = (h / p, w / p)
    for bi in 0..<b {
      for (j, n) in indices[bi].enumerated() {
        let (ti, rest) = n.quotientAndRemainder(dividingBy: gh * gw)
        let (gy, gx) = rest.quotientAndRemainder(dividingBy: gw)
        var dst = (bi * k + j) * values
        for ch in 0..<c {
          for dt in 0..<kt {
            let frame = ((bi * c + ch) * t + ti * kt + dt) * h
            for py in 0..<p {
              body((frame + gy * p + py) * w + gx * p, dst)
              dst += p
            }
          }
        }
      }
    }
  }
}
