import Foundation

/// Linear probing of frozen features (the standard check of what self-supervised features hold):
/// features are standardized with the training rows' mean and std, then a multinomial logistic
/// regression (classes) or ridge regression (targets) is fitted in Double, to convergence.
public struct LinearProbe: Sendable {
  /// Per-feature mean and std of the training rows.
  public let mean: [Double], std: [Double]
  /// Weights (features + 1 bias row) × outputs.
  public let weights: [[Double]]
  /// Whether the outputs are class scores.
  public let classification: Bool

  /// Fits a softmax classifier over `classes` classes with L2 penalty `l2` by full-batch gradient
  /// descent (the loss is convex, so it converges from zero weights).
  public static func classifier(
    features x: [[Double]], labels: [Int], classes: Int, l2: Double = 1e-3, iterations: Int = 3000
  ) throws -> LinearProbe {
    let (mean, std, z) = try standardized(x)
    if let bad = labels.first(where: { !(0..<classes).contains($0) }) {
      throw SVFAPError.badConfig("linear probe: label \(bad) is outside 0..<\(classes)")
    }
    return fitSoftmax(
      z, labels: labels, classes: classes, l2: l2, iterations: iterations, mean: mean, std: std)
  }

  static func fitSoftmax(
    _ z: [[Double]], labels: [Int], classes: Int, l2: Double, iterations: Int, mean: [Double],
    std: [Double]
  ) -> LinearProbe {
    let n = z.count, d = z[0].count + 1
    var w = [[Double]](repeating: [Double](repeating: 0, count: classes), count: d)  // (D+1, K)
    let rate = 0.5
    for _ in 0..<iterations {
      var grad = [[Double]](repeating: [Double](repeating: 0, count: classes), count: d)
      for (row, label) in zip(z, labels) {
        var p = scores(row, w)
        let top = p.max() ?? 0
        p = p.map { exp($0 - top) }
        let total = p.reduce(0, +)
        for k in 0..<classes {
          let g = p[k] / total - (k == label ? 1 : 0)
          for j in 0..<(d - 1) { grad[j][k] += g * row[j] }
          grad[d - 1][k] += g
        }
      }
      for j in 0..<d {
        for k in 0..<classes {
          w[j][k] -= rate * (grad[j][k] / Double(n) + (j < d - 1 ? l2 * w[j][k] : 0))
        }
      }
    }
    return LinearProbe(mean: mean, std: std, weights: w, classification: true)
  }

  /// Fits ridge regression (penalty `l2` × rows, bias unpenalized) to targets (N, K) by solving the
  /// normal equations.
  public static func regressor(features x: [[Double]], targets y: [[Double]], l2: Double = 1e-2)
    throws -> LinearProbe
  {
    let (mean, std, z) = try standardized(x)
    let d = z[0].count + 1, k = y[0].count
    var a = [[Double]](repeating: [Double](repeating: 0, count: d), count: d),
      b = [[Double]](repeating: [Double](repeating: 0, count: k), count: d)
    for (row, t) in zip(z, y) {
      let r = row + [1]
      for i in 0..<d {
        for j in 0..<d { a[i][j] += r[i] * r[j] }
        for o in 0..<k { b[i][o] += r[i] * t[o] }
      }
    }
    for i in 0..<(d - 1) { a[i][i] += l2 * Double(z.count) }
    return LinearProbe(mean: mean, std: std, weights: try solve(a, b), classification: false)
  }

  /// Class probabilities or predicted targets for each feature row.
  public func predict(_ x: [[Double]]) -> [[Double]] {
    x.map { row in
      let s = LinearProbe.scores(zip(zip(row, mean), std).map { ($0.0 - $0.1) / $1 }, weights)
      guard classification else { return s }
      let top = s.max() ?? 0, e = s.map { exp($0 - top) }, total = e.reduce(0, +)
      return e.map { $0 / total }
    }
  }

  static func scores(_ row: [Double], _ w: [[Double]]) -> [Double] {
    var s = w[w.count - 1]
    for (j, v) in row.enumerated() where v != 0 { for k in s.indices { s[k] += v * w[j][k] } }
    return s
  }

  static func standardized(_ x: [[Double]]) throws -> ([Double], [Double], [[Double]]) {
    guard let d = x.first?.count, d > 0, x.allSatisfy({ $0.count == d }) else {
      throw SVFAPError.badConfig(
        "linear probe: need rows of equal, non-zero length (got \(x.map(\.count).prefix(4)))")
    }
    let n = Double(x.count)
    let mean = (0..<d).map { j in x.reduce(0) { $0 + $1[j] } / n }
    let std = (0..<d).map { j in
      max((x.reduce(0) { $0 + ($1[j] - mean[j]) * ($1[j] - mean[j]) } / n).squareRoot(), 1e-6)
    }
    return (mean, std, x.map { row in (0..<d).map { (row[$0] - mean[$0]) / std[$0] } })
  }

  /// Solves A X = B (A symmetric positive definite up to rounding) by Gaussian elimination with
  /// partial pivoting.
  static func solve(_ a0: [[Double]], _ b0: [[Double]]) throws -> [[Double]] {
    var a = a0, b = b0
    let n = a.count
    for c in 0..<n {
      let p = (c..<n).max { abs(a[$0][c]) < abs(a[$1][c]) } ?? c
      guard abs(a[p][c]) > 1e-12 else {
        throw SVFAPError.badConfig("linear probe: singular system")
      }
      a.swapAt(c, p)
      b.swapAt(c, p)
      for r in (c + 1)..<n where a[r][c] != 0 {
        let f = a[r][c] / a[c][c]
        for j in c..<n { a[r][j] -= f * a[c][j] }
        for o in b[r].indices { b[r][o] -= f * b[c][o] }
      }
    }
    var x = b
    for r in stride(from: n - 1, through: 0, by: -1) {
      for o in x[r].indices {
        var s = b[r][o]
        for j in (r + 1)..<n { s -= a[r][j] * x[j][o] }
        x[r][o] = s / a[r][r]
      }
    }
    return x
  }
}
