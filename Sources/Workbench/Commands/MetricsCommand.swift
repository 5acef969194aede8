import Experiments
import SVFAP
import Script

/// `metrics`: the paper's metrics of pooled predictions.
struct MetricsCommand: ScriptCommand {
  /// What the predictions are.
  enum Kind: String, CaseIterable { case classes, values }

  let declaration = CommandDeclaration(
    "metrics", topic: "train",
    summary:
      """
      The paper's metrics of pooled predictions (e.g. gathered over k folds before scoring, as \
      the paper does): UAR, WAR and weighted F1 for classes; PCC, CCC and 1 − MAE for values.
      """,
    params: [
      .positional(
        "predicted", .list, "predicted classes, or values (a list per video for several targets)"),
      .positional("actual", .list, "true classes or values, in the same order"),
      .choice("kind", Kind.self, "class indices or target values", default: .classes),
      .option(
        "classes", .integer, "number of classes (default: the largest seen + 1)", default: .nilValue
      ).within(Limits.classes),
    ],
    returns: "record like evaluate's", example: "metrics predicted actual")

  /// A list of numbers or of lists of numbers, as rows.
  func table(_ a: Arguments, _ name: String) throws -> [[Double]] {
    try a.list(name).enumerated().map { i, v in
      switch v {
      case .number(let x): return [x]
      case .list(let xs):
        return try xs.map {
          guard case .number(let x) = $0 else {
            throw a.error("\(name)[\(i)] holds \($0.typeName), not numbers")
          }
          return x
        }
      default: throw a.error("\(name)[\(i)] is \(v.typeName), not a number or a list of numbers")
      }
    }
  }

  func run(_ a: Arguments, in interp: Interpreter) throws -> Value {
    let p = try table(a, "predicted"), t = try table(a, "actual")
    guard p.count == t.count, !p.isEmpty, let width = p.first?.count,
      (p + t).allSatisfy({ $0.count == width })
    else {
      throw a.error(
        """
        predicted (\(p.count) items) and actual (\(t.count)) must be equally long, non-empty \
        and of one width
        """
      )
    }
    switch try a.choice("kind", as: Kind.self) {
    case .classes:
      guard width == 1, (p + t).allSatisfy({ $0[0] >= 0 && $0[0] == $0[0].rounded() }) else {
        throw a.error("classes must be whole numbers >= 0")
      }
      guard let largest = (p + t).map({ $0[0] }).max(), largest < Double(maxClasses) else {
        throw a.error("class indices must be below \(maxClasses)")
      }
      let k = try a.intIfGiven("classes") ?? Int(largest) + 1
      guard Int(largest) < k else {
        throw a.error("class \(Int(largest)) is not below classes: \(k)")
      }
      return Scores.ofClasses(
        predicted: p.map { Int($0[0]) }, actual: t.map { Int($0[0]) }, classes: k
      ).value
    case .values:
      // Sums of squares and differences stay finite only for values within ±1e150: beyond, MAE,
      // PCC and CCC would come out ±inf or NaN as if they were scores.
      for (name, rows) in [("predicted", p), ("actual", t)] {
        if let i = rows.firstIndex(where: { $0.contains { !$0.isFinite || abs($0) > 1e150 } }) {
          throw a.error("\(name)[\(i)] holds a value that is not a finite number within ±1e150")
        }
      }
      let names = width == 1 ? ["value"] : (0..<width).map { "target\($0)" }
      return Scores(outputs: p, actual: t, classification: false, classes: width, labelNames: names)
        .value
    }
  }
}
