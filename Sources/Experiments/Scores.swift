import SVFAP

/// The paper's metrics of a set of predictions: UAR/WAR/weighted F1 for classes, PCC/CCC/1 − MAE
/// per target (and their mean over targets, as the paper reports personality) for values.
public enum Scores: Sendable, Equatable {
  /// Classification scores.
  case classes(ClassScores)
  /// Per-target regression scores and, for several targets, their mean.
  case values([TargetScores], mean: TargetScores?)

  /// Class scores of predicted and true class indices over `classes` classes.
  public struct ClassScores: Sendable, Equatable {
    /// Unweighted average recall.
    public let uar: Double
    /// Weighted average recall (accuracy).
    public let war: Double
    /// Support-weighted F1.
    public let weightedF1: Double
    /// Predicted class of each item.
    public let predicted: [Int]
    /// True class of each item.
    public let actual: [Int]
  }

  /// Scores of one regression target.
  public struct TargetScores: Sendable, Equatable {
    /// The target's name.
    public let name: String
    /// Pearson correlation.
    public let pcc: Double
    /// Concordance correlation.
    public let ccc: Double
    /// 1 − mean absolute error.
    public let oneMinusMAE: Double
    /// The predicted value of each item.
    public var predicted: [Double] = []
    /// The true value of each item.
    public var actual: [Double] = []
  }

  /// Class scores of predicted against true class indices over `classes` classes (more when a true
  /// class is larger).
  public static func ofClasses(predicted p: [Int], actual t: [Int], classes: Int) -> Scores {
    let k = max(classes, (t.max() ?? 0) + 1)
    return .classes(
      ClassScores(
        uar: Metrics.uar(predicted: p, actual: t, classes: k),
        war: Metrics.war(predicted: p, actual: t),
        weightedF1: Metrics.weightedF1(predicted: p, actual: t, classes: k), predicted: p,
        actual: t))
  }

  /// Scores of outputs (class scores, or target values) against the rows' labels.
  public init(
    outputs: [[Double]], actual: [[Double]], classification: Bool, classes: Int,
    labelNames: [String]
  ) {
    if classification {
      self = .ofClasses(
        predicted: outputs.map { v in v.indices.max { v[$0] < v[$1] } ?? 0 },
        actual: actual.map { Int($0.first ?? 0) }, classes: classes)
      return
    }
    var targets: [TargetScores] = []
    for (j, name) in labelNames.enumerated() where j < (outputs.first?.count ?? 0) {
      let x = outputs.map { $0[j] }, y = actual.map { $0[j] }
      targets.append(
        TargetScores(
          name: name, pcc: Metrics.pcc(x, y), ccc: Metrics.ccc(x, y),
          oneMinusMAE: Metrics.oneMinusMAE(x, y), predicted: x, actual: y))
    }
    var mean: TargetScores?
    if targets.count > 1 {
      let n = Double(targets.count)
      mean = TargetScores(
        name: "mean", pcc: targets.map(\.pcc).reduce(0, +) / n,
        ccc: targets.map(\.ccc).reduce(0, +) / n,
        oneMinusMAE: targets.map(\.oneMinusMAE).reduce(0, +) / n)
    }
    self = .values(targets, mean: mean)
  }
}
