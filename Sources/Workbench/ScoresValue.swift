import Experiments
import Script

extension Scores {
  /// The record scripts see: {uar, war, weighted_f1, predicted, actual} for classes; per target
  /// {pcc, ccc, one_minus_mae, predicted, actual} (and `mean` over several targets) for values.
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
        var fields: [(String, Value)] = [
          ("pcc", .number(t.pcc)), ("ccc", .number(t.ccc)),
          ("one_minus_mae", .number(t.oneMinusMAE)),
        ]
        if !t.predicted.isEmpty {  // the mean over targets has no items of its own
          fields += [
            ("predicted", .list(t.predicted.map { .number($0) })),
            ("actual", .list(t.actual.map { .number($0) })),
          ]
        }
        return .record(Record(fields))
      }
      return .record(
        Record(targets.map { ($0.name, record($0)) } + (mean.map { [("mean", record($0))] } ?? [])))
    }
  }

  /// The record with the scored videos' paths (`videos`, in the order of `predicted`/`actual`).
  func value(videos: [String]) -> Value {
    guard case .record(var r) = value else { return value }
    r["videos"] = .list(videos.map { .string($0) })
    return .record(r)
  }
}
