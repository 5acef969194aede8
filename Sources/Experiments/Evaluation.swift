import Datasets
import Foundation
import Media
import SVFAP
import Tensor

/// Evaluation of fine-tuned models on a manifest's videos, as the paper does it: K clips spread
/// over each video, their outputs averaged, scored with the paper's metrics.
public enum Evaluation {
  /// Predicts every chosen row (K temporal clips × `crops` spatial crops per video, outputs
  /// averaged; each video predicted as soon as it is decoded, so a large test set never sits in
  /// memory) and scores the predictions.
  public static func evaluate(
    _ run: Finetuner, on selection: DatasetSelection, spec: ClipSpec, clipsPerVideo k: Int,
    crops: Int = 1, reader: RowReader
  ) throws -> (scores: Scores, rows: [ManifestRow]) {
    var out: [[Double]] = [], actual: [[Double]] = [], scored: [ManifestRow] = []
    for r in selection.rows {
      guard let clips = try reader.clips(r, of: selection, spec: spec, k: k, crops: crops) else {
        continue
      }
      out += try run.predict(videos: [clips.map(\.tensor)])
      actual.append(r.labels)
      scored.append(r)
    }
    reader.sayFaceSummary()
    let scores = Scores(
      outputs: out, actual: actual, classification: selection.isClassification,
      classes: run.model.config.numClasses,
      labelNames: selection.manifest.labelNames)
    return (scores, scored)
  }

  /// The pooled, normalized feature of each chosen row's video (mean over K clips spread over it),
  /// with the rows whose videos could be read.
  public static func videoFeatures(
    _ model: FinetuneModel, of selection: DatasetSelection, spec: ClipSpec, clipsPerVideo k: Int,
    reader: RowReader
  ) throws -> (features: [[Double]], rows: [ManifestRow]) {
    model.train(false)
    defer { model.train(true) }
    var feats: [[Double]] = [], kept: [ManifestRow] = []
    for r in selection.rows {
      guard let clips = try reader.clips(r, of: selection, spec: spec, k: k) else { continue }
      var sum: [Double] = []
      for c in clips {
        let f = try withNoGrad { try model.features(c.tensor) }.toDoubles()
        sum = sum.isEmpty ? f : zip(sum, f).map(+)
      }
      feats.append(sum.map { $0 / Double(max(clips.count, 1)) })
      kept.append(r)
    }
    reader.sayFaceSummary()
    return (feats, kept)
  }

  /// A linear probe of frozen features: fit a logistic (classes) or ridge (targets) regression on
  /// the training rows' features and score the test rows; for classes, also the fit's WAR on its
  /// own rows.
  public static func linearProbe(
    _ model: FinetuneModel, train: DatasetSelection, test: DatasetSelection, spec: ClipSpec,
    clipsPerVideo k: Int, l2: Double,
    reader: RowReader
  ) throws -> (scores: Scores, trainWAR: Double?, scored: [ManifestRow]) {
    let (trainX, trainRows) = try videoFeatures(
      model, of: train, spec: spec, clipsPerVideo: k, reader: reader)
    let (testX, testRows) = try videoFeatures(
      model, of: test, spec: spec, clipsPerVideo: k, reader: reader)
    guard !trainX.isEmpty, !testX.isEmpty else {
      throw ExperimentError("no readable videos in the training or test rows")
    }
    let classes = model.config.numClasses, names = train.manifest.labelNames
    if train.isClassification {
      let labels = trainRows.map { Int($0.labels.first ?? 0) }
      let probe = try LinearProbe.classifier(
        features: trainX, labels: labels, classes: classes, l2: l2)
      let fit = probe.predict(trainX).map { v in v.indices.max { v[$0] < v[$1] } ?? 0 }
      let scores = Scores(
        outputs: probe.predict(testX), actual: testRows.map(\.labels), classification: true,
        classes: classes, labelNames: names)
      return (scores, Metrics.war(predicted: fit, actual: labels), testRows)
    }
    let probe = try LinearProbe.regressor(
      features: trainX, targets: trainRows.map(\.labels), l2: l2)
    return (
      Scores(
        outputs: probe.predict(testX), actual: testRows.map(\.labels), classification: false,
        classes: 0, labelNames: names), nil, testRows
    )
  }
}
