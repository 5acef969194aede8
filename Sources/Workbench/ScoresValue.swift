import Experiments
import Script

extension Scores {
  /// The record scripts see: {uar, war, weighted_f1, predicted, actual} for classes; per target
  /// {pcc, ccc, one_minus_mae} (and `mean` over several targets) for values.
  var value: Value {
    switch self {
    case .classes(let s):
      return .record(
        Record([
          ("uar", .number(s.uar)), ("war", .number(s.war)), ("weighted_f1", .number(s.weightedF1)),
          ("predicted", .list(s.predicted.map { .number(Double($0)) })),
          ("actual", .list(s.actual.map { .number(Double($0)) })),
        ]))
    case .values(let targets, let mean):
      func record(_ t: TargetScores) -> Value {
        .record(
          Record([
            ("pcc", .number(t.pcc)), ("ccc", .number(t.ccc)),
            ("one_minus_mae", .number(t.oneMinusMAE)),
          ]))
      }
      return .record(
        Record(targets.map { ($0.name, record($0)) } + (mean.map { [("mean", record($0))] } ?? [])))
    }
  }
}
