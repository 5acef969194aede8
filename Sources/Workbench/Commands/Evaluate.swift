import Experiments
import Foundation
import SVFAP
import Script

/// `evaluate`: a fine-tuned model scored on a manifest's rows.
struct Evaluate: SessionCommand {
  unowned let session: Session
  let declaration = CommandDeclaration(
    "evaluate", topic: "train",
    summary:
      """
      Evaluate a fine-tuned model on a manifest's rows, averaging K clips spread over each \
      video × the spatial crops of each (the authors' 2 × 2 test views): UAR/WAR (+ confusion) \
      for classes, PCC/CCC per target for regression.
      """,
    params: [
      .positional("model", .handle("model"), "a fine-tuned model"),
      .positional("manifest", .string, "a manifest .csv"),
      .option("split", .string, "rows to evaluate (\"\" = all)", default: .string("test")),
      .option(
        "clips", .integer, "clips per video, averaged (the paper uses 2)", default: .number(2)
      ).within(Limits.clipsPerVideo),
      .option(
        "crops", .integer,
        "spatial crops per clip along the long side (center crop; the authors use 2)",
        default: .number(2)
      ).within(1...8),
      .option("fold", .integer, "k-fold: evaluate on this fold's rows", default: .nilValue).within(
        Limits.index),
    ] + ClipOptions.params,
    returns:
      """
      record {uar, war, weighted_f1, predicted, actual, videos} or per target {pcc, ccc, \
      one_minus_mae, predicted, actual}, their mean over targets and videos (the scored rows' paths)
      """,
    example: "r = evaluate f \"synth/expressions.csv\" split: \"test\"")

  func run(_ a: Arguments, in interp: Interpreter) throws -> Value {
    let h = try a.handle("model", as: ModelHandle.self)
    let (model, existing) = try h.finetuning(for: a)
    let options = try ClipOptions(a, session: session)
    let selection = try options.select(
      a, session: session, split: try a.string("split"), foldIsTest: true)
    let task: Finetuner.Task =
      selection.isClassification ? .classification(smoothing: 0) : .regression(loss: .mse)
    let run = existing ?? Finetuner(model: model, task: task, totalSteps: 1, batch: 1)
    let (k, crops) = (try a.int("clips"), try a.int("crops"))
    let (scores, scored) = try a.located {
      try Evaluation.evaluate(
        run, on: selection, spec: options.spec, clipsPerVideo: k, crops: crops,
        reader: options.reader(a, interp))
    }
    return scores.value(videos: scored.map(\.path))
  }
}

/// `linear_probe`: a linear classifier/regressor on frozen features.
struct LinearProbeCommand: SessionCommand {
  unowned let session: Session
  let declaration = CommandDeclaration(
    "linear_probe", topic: "train",
    summary:
      """
      Linear probe of frozen features: embed the training and test rows (mean of K clips), fit \
      a logistic regression (classes) or ridge regression (targets) on the training rows, score \
      the test rows.
      """,
    params: [
      .positional(
        "model", .handle("model"),
        "a fine-tuning model (its encoder and fc_norm are used as they are)"),
      .positional("manifest", .string, "a manifest .csv"),
      .option("train", .string, "rows to fit on", default: .string("train")),
      .option("test", .string, "rows to score", default: .string("test")),
      .option(
        "fold", .integer, "k-fold: fit on the other folds, score this one", default: .nilValue
      ).within(Limits.index),
      .option("clips", .integer, "clips per video, averaged", default: .number(2)).within(
        Limits.clipsPerVideo),
      .option("l2", .number, "L2 penalty of the probe", default: .number(1e-3)).within(0...1e6),
      .option(
        "same_rows", .bool,
        "allow fitting and scoring the same rows (a score of the fit, not of held-out data)",
        default: .bool(false)),
    ] + ClipOptions.params,
    returns: "like evaluate, plus train_war (classes) — the probe's fit on its own rows",
    example: "r = linear_probe f \"synth/expressions.csv\"")

  func run(_ a: Arguments, in interp: Interpreter) throws -> Value {
    let (model, _) = try a.handle("model", as: ModelHandle.self).finetuning(for: a)
    let options = try ClipOptions(a, session: session)
    let train = try options.select(
      a, session: session, split: try a.string("train"), foldIsTest: false)
    let test = try options.select(
      a, session: session, split: try a.string("test"), foldIsTest: true)
    let fold = try a.intIfGiven("fold")
    func which(_ split: String, _ rows: Int, test: Bool) throws -> String {
      if let fold { return "\(rows) rows (\(test ? "fold \(fold)" : "every fold but \(fold)"))" }
      return "\(rows) rows (split \(split.isEmpty ? "\"\" = all" : "\"\(split)\""))"
    }
    interp.output(
      """
      linear probe: fit on \(try which(a.string("train"), train.rows.count, test: false)), \
      scored on \(try which(a.string("test"), test.rows.count, test: true))
      """)
    if Set(train.rows.map(\.path)) == Set(test.rows.map(\.path)), try !a.bool("same_rows") {
      throw a.error(
        """
        the probe would be fit and scored on the same \(train.rows.count) rows (its score would \
        be the fit's, not a held-out one): name other rows with train:/test: or fold:, or pass \
        same_rows: true
        """)
    }
    let (k, l2) = (try a.int("clips"), try a.number("l2"))
    let (scores, trainWAR, scored) = try a.located {
      try Evaluation.linearProbe(
        model, train: train, test: test, spec: options.spec, clipsPerVideo: k, l2: l2,
        reader: options.reader(a, interp))
    }
    let value = scores.value(videos: scored.map(\.path))
    guard let trainWAR, case .record(var r) = value else { return value }
    r["train_war"] = .number(trainWAR)
    return .record(r)
  }
}

/// `features`: pooled features of videos, written to a file.
struct ExportFeatures: SessionCommand {
  unowned let session: Session
  let declaration = CommandDeclaration(
    "features", topic: "train",
    summary:
      """
      Embed one video or a manifest's videos with a model's encoder: the pooled, normalized \
      feature of each video (mean over K clips), written as safetensors (features, labels) or \
      CSV.
      """,
    params: [
      .positional("model", .handle("model"), "a fine-tuning model (its encoder and fc_norm)"),
      .positional("manifest", .string, "a manifest .csv, or one video file"),
      .option(
        "output", .string, "a .safetensors or .csv file", default: .string("features.safetensors")),
      .option("split", .string, "rows to embed (\"\" = all)", default: .string("")),
      .option("clips", .integer, "clips per video, averaged", default: .number(2)).within(
        Limits.clipsPerVideo),
    ] + ClipOptions.params,
    returns: "record {videos, dim, path} (and feature, the list of values, for one video)",
    example: "features f \"synth/unlabeled.csv\" output: \"feats.csv\"", rootOnly: true)

  func run(_ a: Arguments, in interp: Interpreter) throws -> Value {
    let (model, _) = try a.handle("model", as: ModelHandle.self).finetuning(for: a)
    let options = try ClipOptions(a, session: session)
    let selection = try options.select(
      a, session: session, split: try a.string("split"), allowVideo: true)
    let (k, out) = (try a.int("clips"), session.resolve(try a.string("output")))
    let (feats, kept) = try a.located {
      try Evaluation.videoFeatures(
        model, of: selection, spec: options.spec, clipsPerVideo: k,
        reader: options.reader(a, interp))
    }
    do {
      try FeatureExport.write(feats, rows: kept, labelNames: selection.manifest.labelNames, to: out)
    } catch {
      throw a.error("\(error)", io: true)
    }
    let dim = feats.first?.count ?? 0
    interp.output("wrote \(feats.count) features of \(dim) values to \(out)")
    var result = Record([
      ("videos", .number(Double(feats.count))), ("dim", .number(Double(dim))),
      ("path", .string(out)),
    ])
    if feats.count == 1 { result["feature"] = .list(feats[0].map { .number($0) }) }
    return .record(result)
  }
}
