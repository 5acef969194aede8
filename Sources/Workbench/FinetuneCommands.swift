import Foundation
import Media
import SVFAP
import Script
import Tensor

/// Fine-tuning and evaluation on a manifest (topic "train").
enum FinetuneCommands {
  static let clipParams: [Param] = [
    .option("root", .string, "folder the manifest's paths are relative to (default: the manifest's folder)", default: .nilValue),
    .option("frames", .integer, "frames per clip", default: .number(16)).within(Limits.frames),
    .option("stride", .integer, "temporal stride", default: .number(4)).within(Limits.stride),
    .option("crop", .string, "face, center or none", default: .string("center")),
    .option("on_error", .string, "a row whose video fails: \"skip\" (reported) or \"stop\"", default: .string("skip")),
  ]

  /// Decodes a row's video with `read`; a failure is reported and skipped (nil), or stops the command
  /// when on_error is "stop".
  static func decode<T>(_ r: ManifestRow, root: String, a: Arguments, interp: Interpreter, _ read: (VideoReader) throws -> T) throws -> T? {
    try Interrupt.check(at: a.location)
    do {
      return try read(try VideoReader(path: r.path.hasPrefix("/") ? r.path : root + "/" + r.path))
    } catch let e as MediaError {
      let policy = try a.string("on_error")
      guard policy == "skip" else { throw ScriptError(.io, "\(a.command): \(r.path): \(e.message) (on_error: \"skip\" to go on without it)", at: a.location) }
      interp.output("skipped \(r.path): \(e.message)")
      return nil
    }
  }

  /// Whether a manifest holds classes (named classes, or one "label" column) rather than targets.
  static func isClassification(_ m: Manifest) -> Bool { !m.classNames.isEmpty || m.labelNames == ["label"] }

  /// The manifest's chosen rows, their root folder and the clip spec of the options; with `allowVideo`,
  /// a path that is not a .csv/.txt manifest is one video (a manifest of one row).
  static func rows(
    _ a: Arguments, session: Session, split: String, foldTest: Bool? = nil, allowVideo: Bool = false, manifestParam: String = "manifest"
  ) throws -> (Manifest, [ManifestRow], String, ClipSpec) {
    let path = session.resolve(try a.string(manifestParam))
    let m: Manifest
    if allowVideo && !["csv", "txt"].contains((path as NSString).pathExtension.lowercased()) {
      m = Manifest(labelNames: [], rows: [ManifestRow(path: path, labels: [])])
    } else {
      do { m = try Manifest.read(path).manifest } catch let e as MediaError { throw ScriptError(.io, "\(a.command): \(e)", at: a.location) }
    }
    let root = a.has("root") ? session.resolve(try a.string("root")) : (path as NSString).deletingLastPathComponent
    var spec = ClipSpec()
    (spec.frames, spec.stride) = (try a.int("frames"), try a.int("stride"))
    guard ["skip", "stop"].contains(try a.string("on_error")) else {
      throw ScriptError(.runtime, "\(a.command): on_error must be \"skip\" or \"stop\"", at: a.location)
    }
    guard let crop = ClipSpec.Crop(rawValue: try a.string("crop")) else {
      throw ScriptError(.runtime, "\(a.command): crop must be face, center or none", at: a.location)
    }
    spec.crop = crop
    var chosen = m.rows.filter { split.isEmpty || $0.split == nil || $0.split == split }
    // k-fold protocols: fold k is the test set, the other folds train.
    if let test = foldTest, a.has("fold") {
      let k = try a.int("fold")
      chosen = m.rows.filter { ($0.fold == k) == test }
    }
    guard !chosen.isEmpty else { throw ScriptError(.runtime, "\(a.command): no rows of split '\(split)' in \(path)", at: a.location) }
    return (m, chosen, root, spec)
  }

  /// The pooled, normalized feature of each row's video (mean over K clips spread over it), with the
  /// rows whose videos could be read; unreadable videos are reported and skipped.
  static func videoFeatures(_ model: FinetuneModel, rows: [ManifestRow], root: String, spec: ClipSpec, clips: Int, a: Arguments, interp: Interpreter) throws
    -> ([[Double]], [ManifestRow])
  {
    model.train(false)
    defer { model.train(true) }
    var feats: [[Double]] = [], kept: [ManifestRow] = []
    for r in rows {
      let feature = try decode(r, root: root, a: a, interp: interp) { reader -> [Double] in
        let starts = ClipSampler.uniformStarts(k: clips, frames: spec.frames, stride: spec.stride, frameCount: reader.info.frameCount)
        var sum: [Double] = []
        for s in starts {
          let f = try withNoGrad { try model.features(reader.clip(spec, start: s).tensor) }.toDoubles()
          sum = sum.isEmpty ? f : zip(sum, f).map(+)
        }
        return sum.map { $0 / Double(starts.count) }
      }
      if let feature {
        feats.append(feature)
        kept.append(r)
      }
    }
    return (feats, kept)
  }

  /// The metrics record of outputs (class probabilities or target values) against the rows' labels.
  static func scores(_ out: [[Double]], actual: [[Double]], classification: Bool, classes: Int, labelNames: [String]) -> Value {
    if classification {
      let p = out.map { v in v.indices.max { v[$0] < v[$1] } ?? 0 }, t = actual.map { Int($0[0]) }
      let k = max(classes, (t.max() ?? 0) + 1)
      return .record(
        Record([
          ("uar", .number(Metrics.uar(predicted: p, actual: t, classes: k))), ("war", .number(Metrics.war(predicted: p, actual: t))),
          ("weighted_f1", .number(Metrics.weightedF1(predicted: p, actual: t, classes: k))),
          ("predicted", .list(p.map { .number(Double($0)) })), ("actual", .list(t.map { .number(Double($0)) })),
        ]))
    }
    var fields: [(String, Value)] = [], sums = [0.0, 0.0, 0.0]
    for (j, name) in labelNames.enumerated() where j < (out.first?.count ?? 0) {
      let x = out.map { $0[j] }, y = actual.map { $0[j] }
      let values = [Metrics.pcc(x, y), Metrics.ccc(x, y), Metrics.oneMinusMAE(x, y)]
      sums = zip(sums, values).map(+)
      fields.append((name, .record(Record(zip(["pcc", "ccc", "one_minus_mae"], values).map { ($0, .number($1)) }))))
    }
    // The paper reports personality averaged over the five traits.
    if fields.count > 1 {
      fields.append(("mean", .record(Record(zip(["pcc", "ccc", "one_minus_mae"], sums).map { ($0, .number($1 / Double(fields.count))) }))))
    }
    return .record(Record(fields))
  }

  static func register(into i: Interpreter, session: Session) {
    i.register(
      Command(
        "clips", topic: "video", summary: "Load one clip of every row of a manifest (small datasets: for train on unlabeled clips).",
        params: [.positional("manifest", .string, "a manifest .csv"), .option("split", .string, "rows to load (\"\" = all)", default: .string(""))]
          + clipParams,
        returns: "list of clips", example: "xs = clips \"examples/unlabeled.csv\" crop: \"face\""
      ) { [unowned session] a, interp in
        let (_, chosen, root, spec) = try rows(a, session: session, split: try a.string("split"))
        var out: [Value] = []
        for r in chosen {
          if let clip = try decode(r, root: root, a: a, interp: interp, { try $0.clip(spec) }) { out.append(.handle(ClipHandle(clip))) }
        }
        return .list(out)
      })
    i.register(
      Command(
        "features", topic: "train",
        summary:
          "Embed one video or a manifest's videos with a model's encoder: the pooled, normalized feature of each video (mean over K clips), written as safetensors (features, labels) or CSV.",
        params: [
          .positional("model", .handle("model"), "a fine-tuning model (its encoder and fc_norm)"),
          .positional("manifest", .string, "a manifest .csv, or one video file"),
          .option("output", .string, "a .safetensors or .csv file", default: .string("features.safetensors")),
          .option("split", .string, "rows to embed (\"\" = all)", default: .string("")),
          .option("clips", .integer, "clips per video, averaged", default: .number(2)).within(Limits.clipsPerVideo),
        ] + clipParams,
        returns: "record {videos, dim, path} (and feature, the list of values, for one video)",
        example: "features f \"synth/unlabeled.csv\" output: \"feats.csv\""
      ) { [unowned session] a, interp in
        let h = try a.handle("model", as: ModelHandle.self)
        let model = try h.finetuneModel(for: a)
        let (m, chosen, root, spec) = try rows(a, session: session, split: try a.string("split"), allowVideo: true)
        let (feats, kept) = try videoFeatures(model, rows: chosen, root: root, spec: spec, clips: try a.int("clips"), a: a, interp: interp)
        let dim = feats.first?.count ?? 0
        let out = session.resolve(try a.string("output"))
        do {
          if out.hasSuffix(".csv") {
            var text =
              "path," + (0..<dim).map { "f\($0)" }.joined(separator: ",") + (m.labelNames.isEmpty ? "" : "," + m.labelNames.joined(separator: ",")) + "\n"
            for (r, f) in zip(kept, feats) { text += ([r.path] + f.map { String($0) } + r.labels.map { String($0) }).joined(separator: ",") + "\n" }
            try text.write(toFile: out, atomically: true, encoding: .utf8)
          } else {
            var tensors = ["features": try Tensor(feats.flatMap { $0 }, shape: [feats.count, dim], dtype: .float32)]
            if let k = kept.first?.labels.count, k > 0 { tensors["labels"] = try Tensor(kept.flatMap(\.labels), shape: [kept.count, k], dtype: .float32) }
            try SafeTensorsFile.write(tensors, metadata: ["paths": kept.map(\.path).joined(separator: "\n")], to: out)
          }
        } catch let e as ScriptError { throw e } catch { throw ScriptError(.io, "features: \(error)", at: a.location) }
        interp.output("wrote \(feats.count) features of \(dim) values to \(out)")
        var result = Record([("videos", .number(Double(feats.count))), ("dim", .number(Double(dim))), ("path", .string(out))])
        if feats.count == 1 { result["feature"] = .list(feats[0].map { .number($0) }) }
        return .record(result)
      })
    i.register(
      Command(
        "finetune", topic: "train",
        summary:
          "Fine-tune a fine-tuning model on a manifest's rows (classification with label smoothing, mixup/cutmix; or regression with MSE/CCC); clips are decoded once and kept in memory, or streamed from disk with stream: true. A second call continues the same run (optimizer, schedule, log) unless restart: true. Ctrl-C stops at a step boundary.",
        params: [
          .positional("model", .handle("model"), "a fine-tuning model"), .positional("manifest", .string, "a manifest .csv"),
          .option("split", .string, "rows to train on (\"\" = all)", default: .string("train")),
          .option("steps", .integer, "steps in this call", default: .number(100)).within(Limits.steps),
          .option("batch", .integer, "clips per step", default: .number(4)).within(Limits.batch),
          .option("total", .integer, "steps of the whole run, for the cosine schedule (default: this call's steps)", default: .nilValue).within(Limits.steps),
          .option("lr", .number, "base learning rate per 256 clips (new run)", default: .number(1e-3)).within(Limits.learningRate),
          .option("loss", .string, "regression: \"mse\" or \"ccc\"", default: .string("mse")),
          .option("fold", .integer, "k-fold: train on every fold but this one", default: .nilValue).within(Limits.index),
          .option("mixup", .number, "mixup alpha (0 = off; the authors use 0.8)", default: .number(0)).within(Limits.alpha),
          .option("cutmix", .number, "cutmix alpha (0 = off; the authors use 1.0)", default: .number(0)).within(Limits.alpha),
          .option("smoothing", .number, "label smoothing (classification, new run)", default: .number(0.1)).within(Limits.fraction),
          .option("layer_decay", .number, "layer-wise lr decay (1 = off; new run)", default: .number(0.75)).within(Limits.layerDecay),
          .option("freeze_encoder", .bool, "train only fc_norm and the head (new run)", default: .bool(false)),
          .option("views", .integer, "clips per video kept in memory, spread over it; each step draws one (an epoch counts videos)", default: .number(1))
            .within(Limits.clipsPerVideo),
          .option(
            "stream", .bool,
            "decode clips on worker threads while training (a random start per sample, reshuffled every epoch) instead of keeping them in memory: for datasets larger than memory",
            default: .bool(false)),
          .option("restart", .bool, "start a new run even if this model was fine-tuned in this session", default: .bool(false)),
        ]
          + StepPlan.params + clipParams,
        returns: "record {step, loss, clips (videos used), stopped}", example: "finetune f \"synth/expressions.csv\" steps: 200 batch: 4"
      ) { [unowned session] a, interp in
        let h = try a.handle("model", as: ModelHandle.self)
        let model = try h.finetuneModel(for: a)
        let (m, chosen, root, spec) = try rows(a, session: session, split: try a.string("split"), foldTest: false)
        let classification = isClassification(m)
        // Labels are checked before any video is decoded.
        if classification {
          do {
            try Manifest(labelNames: m.labelNames, rows: chosen).validateClasses(model.config.numClasses, path: try a.string("manifest"))
          } catch let e as MediaError {
            throw ScriptError(.runtime, "finetune: \(e.message) (the model has \(model.config.numClasses) classes)", at: a.location)
          }
        } else if let bad = chosen.first(where: { $0.labels.count != model.config.numClasses }) {
          throw ScriptError(.runtime, "finetune: \(bad.path) has \(bad.labels.count) targets, the model's head has \(model.config.numClasses)", at: a.location)
        }
        // K clips spread over each video are kept; a step draws among all of them, so every video is
        // equally likely and its temporal position varies (K = 1: the middle clip).
        let views = try a.int("views")
        guard views >= 1 else { throw ScriptError(.runtime, "finetune: views must be >= 1", at: a.location) }
        let stream = try a.bool("stream")
        var clips: [Tensor] = [], targets: [[Double]] = [], videos = stream ? chosen.count : 0
        for r in chosen where !stream {
          let decoded = try decode(r, root: root, a: a, interp: interp) { reader in
            views == 1
              ? [try reader.clip(spec).tensor]
              : try ClipSampler.uniformStarts(k: views, frames: spec.frames, stride: spec.stride, frameCount: reader.info.frameCount).map {
                try reader.clip(spec, start: $0).tensor
              }
          }
          guard let decoded else { continue }
          clips += decoded
          targets += Array(repeating: r.labels, count: decoded.count)
          videos += 1
        }
        let batch = try a.int("batch")
        let plan = try StepPlan(a, clips: videos, batch: batch) { $0 }
        let restart = try a.bool("restart")
        let ft: Finetuner
        if let existing = h.finetuner, !restart {
          ft = existing
        } else {
          let task: Finetuner.Task = classification ? .classification(smoothing: try a.number("smoothing")) : .regression(loss: try a.string("loss"))
          ft = Finetuner(
            model: model, task: task, totalSteps: plan.total, batch: batch * max(1, try a.int("accumulate")), baseLR: try a.number("lr"),
            layerDecay: try a.number("layer_decay"), warmupSteps: plan.warmup, frozenEncoder: try a.bool("freeze_encoder"), seed: session.nextSeed())
          h.finetuner = ft
        }
        (ft.mixupAlpha, ft.cutmixAlpha) = (try a.number("mixup"), try a.number("cutmix"))
        if a.has("clip_grad") { ft.clipGrad = try a.number("clip_grad") }
        ft.accumulate = max(1, try a.int("accumulate"))
        if a.has("log") { ft.logPath = session.resolve(try a.string("log")) }
        let progress = TrainingProgress(
          steps: plan.steps, startStep: ft.step, every: max(1, try a.int("every")), clipsPerStep: batch * ft.accumulate,
          terminal: isatty(1) == 1 && session.interactive, interp: interp)
        let autosave = try a.bool("autosave")
        let report: (StepLog) -> Void = { e in
          progress.report(e)
          session.autosaveStep(ft, name: "finetune", enabled: autosave)
        }
        let stop: TrainingStop
        do {
          if stream {
            let source = StreamedClips(
              manifest: Manifest(labelNames: m.labelNames, classNames: m.classNames, rows: chosen), root: root, spec: spec, batch: batch,
              onError: try a.string("on_error") == "stop" ? .stop : .skip, run: ft, interp: interp)
            stop = try ft.train(steps: plan.steps, shouldStop: { Interrupt.pending }, progress: report) {
              do { return try source.next() } catch let e as MediaError {
                throw ScriptError(.io, "finetune: \(e) (on_error: \"skip\" to go on without it)", at: a.location)
              }
            }
          } else {
            stop = try ft.train(clips: clips, targets: targets, steps: plan.steps, batch: batch, shouldStop: { Interrupt.pending }, progress: report)
          }
        } catch let e as SVFAPError { throw ScriptError(.runtime, "finetune: \(e)", at: a.location) }
        session.autosaveStep(ft, name: "finetune", enabled: autosave, force: true)
        let stopped = TrainingProgress.ended(stop, step: ft.step, interp: interp)
        return .record(
          Record([
            ("step", .number(Double(ft.step))), ("loss", .number(ft.losses.last ?? .nan)), ("clips", .number(Double(videos))),
            ("stopped", .string(stopped)),
          ]))
      })
    i.register(
      Command(
        "evaluate", topic: "train",
        summary:
          "Evaluate a fine-tuned model on a manifest's rows, averaging K clips spread over each video: UAR/WAR (+ confusion) for classes, PCC/CCC per target for regression.",
        params: [
          .positional("model", .handle("model"), "a fine-tuned model"), .positional("manifest", .string, "a manifest .csv"),
          .option("split", .string, "rows to evaluate (\"\" = all)", default: .string("test")),
          .option("clips", .integer, "clips per video, averaged (the paper uses 2)", default: .number(2)).within(Limits.clipsPerVideo),
          .option("fold", .integer, "k-fold: evaluate on this fold's rows", default: .nilValue).within(Limits.index),
        ] + clipParams,
        returns: "record {uar, war, weighted_f1, predicted, actual} or per target {pcc, ccc, one_minus_mae} and their mean over targets",
        example: "r = evaluate f \"synth/expressions.csv\" split: \"test\""
      ) { [unowned session] a, interp in
        let h = try a.handle("model", as: ModelHandle.self)
        let model = try h.finetuneModel(for: a)
        let (m, chosen, root, spec) = try rows(a, session: session, split: try a.string("split"), foldTest: true)
        let classification = isClassification(m)
        let ft =
          h.finetuner ?? Finetuner(model: model, task: classification ? .classification(smoothing: 0) : .regression(loss: "mse"), totalSteps: 1, batch: 1)
        // Each video is predicted as soon as it is decoded, so a large test set never sits in memory.
        var out: [[Double]] = [], actual: [[Double]] = []
        let k = try a.int("clips")
        for r in chosen {
          let clips = try decode(r, root: root, a: a, interp: interp) { reader in
            try ClipSampler.uniformStarts(k: k, frames: spec.frames, stride: spec.stride, frameCount: reader.info.frameCount).map {
              try reader.clip(spec, start: $0).tensor
            }
          }
          guard let clips else { continue }
          out += try ft.predict(videos: [clips])
          actual.append(r.labels)
        }
        return scores(out, actual: actual, classification: classification, classes: model.config.numClasses, labelNames: m.labelNames)
      })
    i.register(
      Command(
        "metrics", topic: "train",
        summary:
          "The paper's metrics of pooled predictions (e.g. gathered over k folds before scoring, as the paper does): UAR, WAR and weighted F1 for classes; PCC, CCC and 1 − MAE for values.",
        params: [
          .positional("predicted", .list, "predicted classes, or values (a list per video for several targets)"),
          .positional("actual", .list, "true classes or values, in the same order"),
          .option("kind", .string, "\"classes\" or \"values\"", default: .string("classes")),
          .option("classes", .integer, "number of classes (default: the largest seen + 1)", default: .nilValue).within(Limits.classes),
        ],
        returns: "record like evaluate's", example: "metrics predicted actual"
      ) { a, _ in
        func table(_ name: String) throws -> [[Double]] {
          try a.list(name).enumerated().map { i, v in
            switch v {
            case .number(let x): return [x]
            case .list(let xs):
              return try xs.map {
                guard case .number(let x) = $0 else { throw ScriptError(.runtime, "metrics: \(name)[\(i)] holds \($0.typeName), not numbers", at: a.location) }
                return x
              }
            default: throw ScriptError(.runtime, "metrics: \(name)[\(i)] is \(v.typeName), not a number or a list of numbers", at: a.location)
            }
          }
        }
        let p = try table("predicted"), t = try table("actual")
        guard p.count == t.count, !p.isEmpty, let width = p.first?.count, (p + t).allSatisfy({ $0.count == width }) else {
          throw ScriptError(
            .runtime, "metrics: predicted (\(p.count) items) and actual (\(t.count)) must be equally long, non-empty and of one width", at: a.location)
        }
        switch try a.string("kind") {
        case "classes":
          guard width == 1, (p + t).allSatisfy({ $0[0] >= 0 && $0[0] == $0[0].rounded() }) else {
            throw ScriptError(.runtime, "metrics: classes must be whole numbers >= 0", at: a.location)
          }
          guard let largest = (p + t).map({ $0[0] }).max(), largest < Double(maxClasses) else {
            throw ScriptError(.runtime, "metrics: class indices must be below \(maxClasses)", at: a.location)
          }
          let k = a.has("classes") ? try a.int("classes") : Int(largest) + 1
          guard Int(largest) < k else { throw ScriptError(.runtime, "metrics: class \(Int(largest)) is not below classes: \(k)", at: a.location) }
          let oneHot = p.map { row in (0..<k).map { $0 == Int(row[0]) ? 1.0 : 0 } }
          return scores(oneHot, actual: t, classification: true, classes: k, labelNames: [])
        case "values":
          return scores(p, actual: t, classification: false, classes: width, labelNames: width == 1 ? ["value"] : (0..<width).map { "target\($0)" })
        case let kind: throw ScriptError(.runtime, "metrics: kind must be \"classes\" or \"values\", not \"\(kind)\"", at: a.location)
        }
      })
    i.register(
      Command(
        "linear_probe", topic: "train",
        summary:
          "Linear probe of frozen features: embed the training and test rows (mean of K clips), fit a logistic regression (classes) or ridge regression (targets) on the training rows, score the test rows.",
        params: [
          .positional("model", .handle("model"), "a fine-tuning model (its encoder and fc_norm are used as they are)"),
          .positional("manifest", .string, "a manifest .csv"),
          .option("train", .string, "rows to fit on", default: .string("train")), .option("test", .string, "rows to score", default: .string("test")),
          .option("fold", .integer, "k-fold: fit on the other folds, score this one", default: .nilValue).within(Limits.index),
          .option("clips", .integer, "clips per video, averaged", default: .number(2)).within(Limits.clipsPerVideo),
          .option("l2", .number, "L2 penalty of the probe", default: .number(1e-3)).within(0...1e6),
        ] + clipParams,
        returns: "like evaluate, plus train_war (classes) — the probe's fit on its own rows",
        example: "r = linear_probe f \"synth/expressions.csv\""
      ) { [unowned session] a, interp in
        let h = try a.handle("model", as: ModelHandle.self)
        let model = try h.finetuneModel(for: a)
        let (m, trainRows, root, spec) = try rows(a, session: session, split: try a.string("train"), foldTest: false)
        let (_, testRows, _, _) = try rows(a, session: session, split: try a.string("test"), foldTest: true)
        let classification = isClassification(m)
        let clips = try a.int("clips")
        let (trainX, trainKept) = try videoFeatures(model, rows: trainRows, root: root, spec: spec, clips: clips, a: a, interp: interp)
        let (testX, testKept) = try videoFeatures(model, rows: testRows, root: root, spec: spec, clips: clips, a: a, interp: interp)
        guard !trainX.isEmpty, !testX.isEmpty else {
          throw ScriptError(.runtime, "linear_probe: no readable videos in the training or test rows", at: a.location)
        }
        let l2 = try a.number("l2")
        do {
          if classification {
            let labels = trainKept.map { Int($0.labels[0]) }
            let probe = try LinearProbe.classifier(features: trainX, labels: labels, classes: model.config.numClasses, l2: l2)
            let fit = probe.predict(trainX).map { v in v.indices.max { v[$0] < v[$1] } ?? 0 }
            guard
              case .record(var r) = scores(
                probe.predict(testX), actual: testKept.map(\.labels), classification: true, classes: model.config.numClasses, labelNames: m.labelNames)
            else { return .nilValue }
            r["train_war"] = .number(Metrics.war(predicted: fit, actual: labels))
            return .record(r)
          }
          let probe = try LinearProbe.regressor(features: trainX, targets: trainKept.map(\.labels), l2: l2)
          return scores(probe.predict(testX), actual: testKept.map(\.labels), classification: false, classes: 0, labelNames: m.labelNames)
        } catch let e as SVFAPError { throw ScriptError(.runtime, "linear_probe: \(e)", at: a.location) }
      })
  }
}
