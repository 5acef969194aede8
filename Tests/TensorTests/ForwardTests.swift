import Glibc
import Testing

@testable import Tensor

/// Forward values against hand-computed ones, in Float (the SIMD kernels) and Double.
@Suite struct ForwardTests {
  func t(_ v: [Float], _ s: [Int]) throws -> Tensor { try Tensor(v, shape: s) }

  @Test func broadcastArithmetic() throws {
    let a = try t([1, 2, 3, 4, 5, 6], [2, 3]), b = try t([10, 20, 30], [3])
    #expect(try (a + b).toFloats() == [11, 22, 33, 14, 25, 36])
    #expect(try (a * b).toFloats() == [10, 40, 90, 40, 100, 180])
    #expect(try (a - t([1, 2], [2, 1])).toFloats() == [0, 1, 2, 2, 3, 4])
    #expect(try (a / t([2], [1])).toFloats() == [0.5, 1, 1.5, 2, 2.5, 3])
    #expect(try a.sum(axis: 0).toFloats() == [5, 7, 9])
    #expect(try a.mean(axis: 1).toFloats() == [2, 5])
  }

  @Test func matmulValues() throws {
    let a = try t([1, 2, 3, 4, 5, 6], [2, 3]), b = try t([1, 0, 0, 1, 1, 1], [3, 2])
    #expect(try Tensor.matmul(a, b).toFloats() == [4, 5, 10, 11])
    #expect(try Tensor.matmul(a, a, transB: true).toFloats() == [14, 32, 32, 77])
    let w = try t([1, 1, 1, 0, 0, 1], [2, 3]), bias = try t([0.5, -1], [2])
    #expect(try a.linear(w, bias).toFloats() == [6.5, 2, 15.5, 5])
  }

  @Test func movement() throws {
    let a = try t([1, 2, 3, 4, 5, 6], [2, 3])
    #expect(try a.transposed().toFloats() == [1, 4, 2, 5, 3, 6])
    #expect(try Tensor.concat([a, a], axis: 1).toFloats() == [1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6])
    #expect(try a.slice(axis: 1, start: 1, count: 2).toFloats() == [2, 3, 5, 6])
    #expect(try a.repeatInterleave(2, axis: 0).toFloats() == [1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6])
    let x = try t([1, 2, 3, 4, 5, 6], [1, 3, 2])
    #expect(try x.gatherRows([[2, 0]]).toFloats() == [5, 6, 1, 2])
  }

  @Test(arguments: [DType.float32, .float64])
  func layerNormSoftmaxGelu(dtype: DType) throws {
    // Rows of 32 use the SIMD path for Float; 3 the scalar path.
    for cols in [3, 32] {
      let vals = (0..<cols).map { Double($0 % 5) - 1.5 }
      let x = try Tensor(vals, shape: [1, cols], dtype: dtype)
      let y = try x.layerNorm(
        Tensor.ones([cols], dtype: dtype), Tensor.zeros([cols], dtype: dtype), eps: 1e-6
      ).toDoubles()
      let m = vals.reduce(0, +) / Double(cols)
      let v = vals.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(cols)
      for (a, b) in zip(y, vals.map { ($0 - m) / (v + 1e-6).squareRoot() }) {
        #expect(abs(a - b) < 1e-5)
      }
      let s = x.softmax().toDoubles()
      let e = vals.map { Foundation_exp($0) }, z = e.reduce(0, +)
      for (a, b) in zip(s, e.map { $0 / z }) { #expect(abs(a - b) < 1e-6) }
    }
    // GELU against erf computed in Double, over a wide range (the Float path is a SIMD
    // approximation).
    let xs = (0..<64).map { Double($0) / 4 - 8 }
    let g = try Tensor(xs, shape: [64], dtype: dtype).gelu().toDoubles()
    for (a, x) in zip(g, xs) {
      #expect(abs(a - x * 0.5 * (1 + Foundation_erf(x / 2.0.squareRoot()))) < 1e-6)
    }
  }

  @Test func crossEntropyValue() throws {
    let logits = try t([0, 0, 0, 1, 2, 3], [2, 3])
    let ce = try logits.crossEntropy(labels: [0, 2]).item()
    let want =
      (Foundation_log(3)
        + (-3 + Foundation_log(Foundation_exp(1) + Foundation_exp(2) + Foundation_exp(3)))) / 2
    #expect(abs(ce - want) < 1e-6)
  }

  @Test func shapeErrorsNameOpAndShapes() throws {
    let a = Tensor.zeros([2, 3]), b = Tensor.zeros([4, 5])
    #expect(throws: TensorError.shapeMismatch(op: "add", lhs: [2, 3], rhs: [4, 5])) { try a + b }
    #expect(throws: TensorError.shapeMismatch(op: "matmul", lhs: [2, 3], rhs: [4, 5])) {
      try Tensor.matmul(a, b)
    }
    #expect(throws: TensorError.self) { try a.reshaped([7]) }
    #expect(throws: TensorError.self) { try a.gatherRows([[9]]) }
    let nan = try Tensor([1, .nan, .infinity], shape: [3])
    #expect(nan.nonFiniteCount() == 2)
    #expect(throws: TensorError.nonFinite(what: "loss", count: 2)) { try nan.checkFinite("loss") }
  }

  @Test func autogradAccumulatesAndFreesGraph() throws {
    let w = try t([1, 2], [2])
    w.requiresGrad = true
    let y = try (w * w).sum()
    try y.backward()
    #expect(w.grad?.toFloats() == [2, 4])
    let y2 = try (w * 3).sum()
    try y2.backward()
    #expect(w.grad?.toFloats() == [5, 7])
    #expect(y.node == nil)
    let z = try withNoGrad { try (w * w).sum() }
    #expect(!z.requiresGrad)
  }
}

func Foundation_exp(_ x: Double) -> Double { Glibc.exp(x) }
func Foundation_log(_ x: Double) -> Double { Glibc.log(x) }
func Foundation_erf(_ x: Double) -> Double { Glibc.erf(x) }
