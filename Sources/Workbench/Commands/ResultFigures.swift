import Foundation
import Plot
import SVFAP
import SafeFiles
import Script

/// `show_curves`: training curves of several runs.
struct ShowCurves: SessionCommand {
  unowned let session: Session
  let declaration = CommandDeclaration(
    "show_curves", topic: "plot",
    summary: "Training curves of several trained models on one plot (or of JSON-lines logs).",
    params: [
      .variadic("runs", "trained models or log file paths"),
      .option(
        "names", .list,
        "the runs' names in the legend (default: each log file's stem, or the model's preset)",
        default: .nilValue),
      .option("text", .bool, "also print a text rendering", default: .bool(true)),
    ]
      + FigureOutput.params,
    returns: "nil (prints the figure's path)", example: "show_curves m1 m2", rootOnly: true)

  func run(_ a: Arguments, in interp: Interpreter) throws -> Value {
    var runs: [(String, [StepLog])] = []
    for v in try a.list("runs") {
      switch v {
      case .handle(let m as ModelHandle):
        guard let log = m.run?.log, !log.isEmpty else {
          throw a.error("the \(m.preset) model has no training log yet (train it first)")
        }
        runs.append((m.runName(), log))
      case .string(let p):
        let text: String
        do { text = try SafeFile.readText(session.resolve(p)) } catch {
          throw a.error("cannot read the log \(error)")
        }
        let logs = text.split(separator: "\n").compactMap {
          try? JSONDecoder().decode(StepLog.self, from: Data($0.utf8))
        }
        guard !logs.isEmpty else { throw a.error("no step records in '\(p)'", io: true) }
        runs.append((fileStem(p), logs))
      default: throw a.error("\(v.typeName) is not a model or a log file")
      }
    }
    if a.has("names") {
      let names = try a.list("names").map { v -> String in
        guard case .string(let s) = v else {
          throw a.error("names must be strings, got \(v.typeName)")
        }
        return s
      }
      guard names.count == runs.count else {
        throw a.error("\(names.count) names for \(runs.count) runs")
      }
      runs = zip(names, runs).map { ($0, $1.1) }
    } else {
      // Two runs of one name get their position added.
      let counts = Dictionary(runs.map { ($0.0, 1) }, uniquingKeysWith: +)
      runs = runs.enumerated().map { i, r in
        counts[r.0, default: 0] > 1 ? ("\(r.0) #\(i + 1)", r.1) : r
      }
    }
    guard runs.contains(where: { !$0.1.isEmpty }) else {
      throw a.error("no training steps to draw (give trained models or JSON-lines logs)")
    }
    return try FigureOutput.save(Figures.trainingCurves(runs), a, interp, session: session)
  }
}

/// Classes a confusion-matrix figure draws at most (its cells grow with classes²; beyond a few
/// hundred the labels are unreadable anyway).
let maxConfusionClasses = 500

/// `show_confusion`: a confusion matrix with per-class recall.
struct ShowConfusion: SessionCommand {
  unowned let session: Session
  let declaration = CommandDeclaration(
    "show_confusion", topic: "plot",
    summary:
      "A confusion matrix with per-class recall from predicted and true class indices (at most "
      + "\(maxConfusionClasses) classes).",
    params: [
      .positional("predicted", .list, "predicted classes"),
      .positional("actual", .list, "true classes"),
      .option("classes", .list, "class names", default: .nilValue),
    ] + FigureOutput.params,
    returns: "nil (prints the figure's path)",
    example: "show_confusion [0, 1, 1] [0, 1, 0] classes: [\"neutral\", \"happy\"]", rootOnly: true)

  func run(_ a: Arguments, in interp: Interpreter) throws -> Value {
    let p = try a.indices("predicted", below: maxClasses),
      t = try a.indices("actual", below: maxClasses)
    guard p.count == t.count, let largest = (p + t).max() else {
      throw a.error("predicted and actual need the same non-zero length")
    }
    let names =
      a.has("classes")
      ? try a.list("classes").map { $0.description } : (0...largest).map(String.init)
    guard largest < names.count else {
      throw a.error("class \(largest) has no name (classes: names \(names.count))")
    }
    guard names.count <= maxConfusionClasses else {
      throw a.error(
        """
        a confusion matrix of \(names.count) classes cannot be drawn (at most \
        \(maxConfusionClasses)); `metrics` gives the scores of any number
        """)
    }
    let m = Metrics.confusion(predicted: p, actual: t, classes: names.count)
    let recall = Metrics.recalls(predicted: p, actual: t, classes: names.count)
    let rows = zip(names, recall).map {
      "\($0) (\($1.map { String(format: "%.0f%%", $0 * 100) } ?? "-"))"
    }
    let uar = Metrics.uar(predicted: p, actual: t, classes: names.count),
      war = Metrics.war(predicted: p, actual: t)
    let fig = Figure(
      title: String(format: "UAR %.1f%%  WAR %.1f%%", uar * 100, war * 100),
      panels: [
        .matrix(
          values: m.map { $0.map(Double.init) }, rowLabels: rows, columnLabels: names,
          title: "confusion (rows: true, with recall)")
      ],
      columns: 1, panelWidth: 520, panelHeight: 460)
    return try FigureOutput.save(fig, a, interp, session: session)
  }
}

/// `show_scatter`: predicted against true values.
struct ShowScatter: SessionCommand {
  unowned let session: Session
  let declaration = CommandDeclaration(
    "show_scatter", topic: "plot",
    summary: "Predicted against true values of a regression target, with PCC and CCC in the title.",
    params: [
      .positional("predicted", .list, "predicted values"),
      .positional("actual", .list, "true values"),
      .option("name", .string, "the target's name", default: .string("target")),
    ] + FigureOutput.params,
    returns: "nil (prints the figure's path)", example: "show_scatter pv tv name: \"valence\"",
    rootOnly: true)

  func run(_ a: Arguments, in interp: Interpreter) throws -> Value {
    func numbers(_ name: String) throws -> [Double] {
      try a.list(name).compactMap { v -> Double? in
        if case .number(let n) = v { return n }
        return nil
      }
    }
    let p = try numbers("predicted"), t = try numbers("actual")
    guard p.count == t.count, !p.isEmpty else {
      throw a.error("predicted and actual need the same non-zero length")
    }
    let name = try a.string("name")
    let fig = Figure(
      title: String(format: "%@: PCC %.3f  CCC %.3f", name, Metrics.pcc(p, t), Metrics.ccc(p, t)),
      panels: [.scatter(x: t, y: p, xLabel: "true", yLabel: "predicted", title: name)], columns: 1,
      panelWidth: 420, panelHeight: 400)
    return try FigureOutput.save(fig, a, interp, session: session)
  }
}
