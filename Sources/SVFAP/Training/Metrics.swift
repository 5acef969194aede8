/// Evaluation metrics of the paper's three task families. With k-fold protocols, pool the
/// predictions of all folds (`poolFolds`) before computing a metric, as the paper does.
public enum Metrics {
  /// counts[true][predicted] over `classes` classes.
  public static func confusion(predicted: [Int], actual: [Int], classes: Int) -> [[Int]] {
    var m = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
    for (p, a) in zip(predicted, actual)
    where (0..<classes).contains(p) && (0..<classes).contains(a) { m[a][p] += 1 }
    return m
  }

  /// Per class: items whose true class it is (support), items predicted as it, and items both
  /// (the confusion matrix's row sums, column sums and diagonal), in one pass over the items —
  /// time and memory grow with items + classes, not classes², so 100 000 classes cost nothing.
  /// Items outside `0..<classes` are left out, as in `confusion`.
  static func classCounts(predicted: [Int], actual: [Int], classes: Int) -> (
    support: [Int], predicted: [Int], correct: [Int]
  ) {
    let k = max(classes, 0)
    var (support, predictedAs, correct) = (
      [Int](repeating: 0, count: k), [Int](repeating: 0, count: k), [Int](repeating: 0, count: k)
    )
    for (p, a) in zip(predicted, actual) where (0..<k).contains(p) && (0..<k).contains(a) {
      support[a] += 1
      predictedAs[p] += 1
      if p == a { correct[a] += 1 }
    }
    return (support, predictedAs, correct)
  }

  /// Recall of each class (nil for classes absent from `actual`).
  public static func recalls(predicted: [Int], actual: [Int], classes: Int) -> [Double?] {
    let counts = classCounts(predicted: predicted, actual: actual, classes: classes)
    return zip(counts.correct, counts.support).map { tp, n in
      n == 0 ? nil : Double(tp) / Double(n)
    }
  }

  /// Unweighted average recall: the mean of per-class recalls over the classes present.
  public static func uar(predicted: [Int], actual: [Int], classes: Int) -> Double {
    let r = recalls(predicted: predicted, actual: actual, classes: classes).compactMap { $0 }
    return r.isEmpty ? 0 : r.reduce(0, +) / Double(r.count)
  }

  /// Weighted average recall = overall accuracy.
  public static func war(predicted: [Int], actual: [Int]) -> Double {
    guard !actual.isEmpty else { return 0 }
    return Double(zip(predicted, actual).filter { $0 == $1 }.count) / Double(actual.count)
  }

  /// F1 per class weighted by the class's support (scikit-learn's "weighted" average).
  public static func weightedF1(predicted: [Int], actual: [Int], classes: Int) -> Double {
    let counts = classCounts(predicted: predicted, actual: actual, classes: classes)
    let total = Double(actual.count)
    guard total > 0 else { return 0 }
    var f = 0.0
    for c in counts.support.indices {
      let tp = Double(counts.correct[c]), support = Double(counts.support[c]),
        predictedC = Double(counts.predicted[c])
      guard support > 0 else { continue }
      let precision = predictedC == 0 ? 0 : tp / predictedC, recall = tp / support
      let f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall)
      f += f1 * support / total
    }
    return f
  }

  /// Means and centred sums of products of paired values: (mean x, mean y, Σ dx·dy, Σ dx², Σ dy²).
  static func moments(_ x: [Double], _ y: [Double]) -> (Double, Double, Double, Double, Double) {
    let n = Double(max(x.count, 1))
    let mx = x.reduce(0, +) / n, my = y.reduce(0, +) / n
    var sxy = 0.0, sxx = 0.0, syy = 0.0
    for (a, b) in zip(x, y) {
      sxy += (a - mx) * (b - my)
      sxx += (a - mx) * (a - mx)
      syy += (b - my) * (b - my)
    }
    return (mx, my, sxy, sxx, syy)
  }

  /// Pearson correlation.
  public static func pcc(_ x: [Double], _ y: [Double]) -> Double {
    guard x.count > 1 else { return 0 }
    let (_, _, sxy, sxx, syy) = moments(x, y)
    return sxx == 0 || syy == 0 ? 0 : sxy / (sxx * syy).squareRoot()
  }

  /// Concordance correlation: 2 cov / (var_x + var_y + (mean_x − mean_y)²), population moments.
  public static func ccc(_ x: [Double], _ y: [Double]) -> Double {
    let n = Double(x.count)
    guard n > 0 else { return 0 }
    let (mx, my, cov, vx, vy) = moments(x, y)
    let d = vx / n + vy / n + (mx - my) * (mx - my)
    return d == 0 ? 0 : 2 * (cov / n) / d
  }

  /// 1 − mean absolute error (the personality "ACC").
  public static func oneMinusMAE(_ x: [Double], _ y: [Double]) -> Double {
    guard !x.isEmpty else { return 0 }
    return 1 - zip(x, y).map { abs($0 - $1) }.reduce(0, +) / Double(x.count)
  }

  /// Concatenates per-fold predictions and targets, for metrics over the pooled folds.
  public static func poolFolds<T>(_ folds: [(predicted: [T], actual: [T])]) -> (
    predicted: [T], actual: [T]
  ) {
    (folds.flatMap(\.predicted), folds.flatMap(\.actual))
  }
}
