import Foundation
import Media
import SVFAP
import Script
import Tensor

/// Fine-tuning and evaluation on a manifest (topic "train").
enum FinetuneCommands {
  static let clipParams: [Param] = [
    .option("root", .string, "folder the manifest's paths are relative to (default: the manifest's folder)", default: .nilValue),
    .option("frames", .integer, "frames per clip", default: .number(16)), .option("stride", .integer, "temporal stride", default: .number(4)),
    .option("crop", .string, "face, center or none", default: .string("center")),
  ]

  static func rows(_ a: Arguments, session: Session, split: String, foldTest: Bool? = nil) throws -> (Manifest, [ManifestRow], String, ClipSpec) {
    let path = session.resolve(try a.string("manifest"))
    let m: Manifest
    do { m = try Manifest.read(path).manifest } catch let e as MediaError { throw ScriptError(.io, "\(a.command): \(e)", at: a.location) }
    let root = a.has("root") ? session.resolve(try a.string("root")) : (path as NSString).deletingLastPathComponent
    var spec = ClipSpec()
    (spec.frames, spec.stride) = (try a.int("frames"), try a.int("stride"))
    guard let crop = ClipSpec.Crop(rawValue: try a.string("crop")) else { throw ScriptError(.runtime, "\(a.command): crop must be face, center or none", at: a.location) }
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

  static func register(into i: Interpreter, session: Session) {
    i.register(Command("clips", topic: "video", summary: "Load one clip of every row of a manifest (small datasets: for train on unlabeled clips).",
                       params: [.positional("manifest", .string, "a manifest .csv"), .option("split", .string, "rows to load (\"\" = all)", default: .string(""))] + clipParams,
                       returns: "list of clips", example: "xs = clips \"examples/unlabeled.csv\" crop: \"face\"") { a, interp in
      let (_, chosen, root, spec) = try rows(a, session: session, split: try a.string("split"))
      var out: [Value] = []
      for r in chosen {
        try Interrupt.check(at: a.location)
        do { out.append(.handle(ClipHandle(try VideoReader(path: r.path.hasPrefix("/") ? r.path : root + "/" + r.path).clip(spec)))) }
        catch let e as MediaError { interp.output("skipped \(r.path): \(e.message)") }
      }
      return .list(out)
    })
    i.register(Command("features", topic: "train", summary: "Embed videos with a model's encoder: the pooled, normalized feature of each video (mean over K clips), written as safetensors (features, labels) or CSV.",
                       params: [.positional("model", .handle("model"), "a fine-tuning model (its encoder and fc_norm)"), .positional("manifest", .string, "a manifest .csv"),
                                .option("output", .string, "a .safetensors or .csv file", default: .string("features.safetensors")),
                                .option("split", .string, "rows to embed (\"\" = all)", default: .string("")),
                                .option("clips", .integer, "clips per video, averaged", default: .number(2))] + clipParams,
                       returns: "record {videos, dim, path}", example: "features f \"synth/unlabeled.csv\" output: \"feats.csv\"") { a, interp in
      let h = try a.handle("model", as: ModelHandle.self)
      guard let model = h.finetune else { throw ScriptError(.runtime, "features: needs a fine-tuning model (load pretrained weights with checkpoint)", at: a.location) }
      let (m, chosen, root, spec) = try rows(a, session: session, split: try a.string("split"))
      model.train(false)
      var feats: [[Double]] = [], kept: [ManifestRow] = []
      for r in chosen {
        try Interrupt.check(at: a.location)
        do {
          let reader = try VideoReader(path: r.path.hasPrefix("/") ? r.path : root + "/" + r.path)
          let starts = ClipSampler.uniformStarts(k: try a.int("clips"), frames: spec.frames, stride: spec.stride, frameCount: reader.info.frameCount)
          var sum: [Double] = []
          for s in starts {
            let f = try withNoGrad { try model.features(reader.clip(spec, start: s).tensor) }.toDoubles()
            sum = sum.isEmpty ? f : zip(sum, f).map(+)
          }
          feats.append(sum.map { $0 / Double(starts.count) })
          kept.append(r)
        } catch let e as MediaError { interp.output("skipped \(r.path): \(e.message)") }
      }
      let dim = feats.first?.count ?? 0
      let out = session.resolve(try a.string("output"))
      do {
        if out.hasSuffix(".csv") {
          var text = "path," + (0..<dim).map { "f\($0)" }.joined(separator: ",") + (m.labelNames.isEmpty ? "" : "," + m.labelNames.joined(separator: ",")) + "\n"
          for (r, f) in zip(kept, feats) { text += ([r.path] + f.map { String($0) } + r.labels.map { String($0) }).joined(separator: ",") + "\n" }
          try text.write(toFile: out, atomically: true, encoding: .utf8)
        } else {
          var tensors = ["features": try Tensor(feats.flatMap { $0 }, shape: [feats.count, dim], dtype: .float32)]
          if let k = kept.first?.labels.count, k > 0 { tensors["labels"] = try Tensor(kept.flatMap(\.labels), shape: [kept.count, k], dtype: .float32) }
          try SafeTensorsFile.write(tensors, metadata: ["paths": kept.map(\.path).joined(separator: "\n")], to: out)
        }
      } catch let e as ScriptError { throw e } catch { throw ScriptError(.io, "features: \(error)", at: a.location) }
      interp.output("wrote \(feats.count) features of \(dim) values to \(out)")
      return .record(Record([("videos", .number(Double(feats.count))), ("dim", .number(Double(dim))), ("path", .string(out))]))
    })
    i.register(Command("finetune", topic: "train", summary: "Fine-tune a fine-tuning model on a manifest's rows (classification with label smoothing, or regression with MSE/CCC); clips are decoded once and kept in memory.",
                       params: [.positional("model", .handle("model"), "a fine-tuning model"), .positional("manifest", .string, "a manifest .csv"),
                                .option("split", .string, "rows to train on (\"\" = all)", default: .string("train")),
                                .option("steps", .integer, "steps", default: .number(100)), .option("batch", .integer, "clips per step", default: .number(4)),
                                .option("lr", .number, "base learning rate per 256 clips", default: .number(1e-3)),
                                .option("loss", .string, "regression: \"mse\" or \"ccc\"", default: .string("mse")),
                                .option("every", .integer, "progress line every N steps", default: .number(10)),
                                .option("fold", .integer, "k-fold: train on every fold but this one", default: .nilValue),
                                .option("mixup", .number, "mixup alpha (0 = off; the authors use 0.8)", default: .number(0)),
                                .option("cutmix", .number, "cutmix alpha (0 = off; the authors use 1.0)", default: .number(0))] + clipParams,
                       returns: "record {step, loss, clips}", example: "finetune f \"synth/expressions.csv\" steps: 200 batch: 4") { a, interp in
      let h = try a.handle("model", as: ModelHandle.self)
      guard let model = h.finetune else { throw ScriptError(.runtime, "finetune: needs a fine-tuning model (task: \"finetune\")", at: a.location) }
      let (m, chosen, root, spec) = try rows(a, session: session, split: try a.string("split"), foldTest: false)
      let classification = !m.classNames.isEmpty || m.labelNames == ["label"]
      var clips: [Tensor] = [], targets: [[Double]] = []
      for r in chosen {
        try Interrupt.check(at: a.location)
        do {
          clips.append(try VideoReader(path: r.path.hasPrefix("/") ? r.path : root + "/" + r.path).clip(spec).tensor)
          targets.append(r.labels)
        } catch let e as MediaError { interp.output("skipped \(r.path): \(e.message)") }
      }
      let steps = try a.int("steps"), batch = try a.int("batch"), every = max(1, try a.int("every"))
      let ft = Finetuner(model: model, task: classification ? .classification(smoothing: 0.1) : .regression(loss: try a.string("loss")),
                         totalSteps: steps, batch: batch, baseLR: try a.number("lr"), seed: session.nextSeed())
      (ft.mixupAlpha, ft.cutmixAlpha) = (try a.number("mixup"), try a.number("cutmix"))
      do {
        try ft.train(clips: clips, targets: targets, steps: steps, batch: batch, shouldStop: { Interrupt.pending }) { s, l in
          if s % every == 0 { interp.output(String(format: "step %5d  loss %.4f", s, l)) }
        }
      } catch let e as SVFAPError { throw ScriptError(.runtime, "finetune: \(e)", at: a.location) }
      Interrupt.clear()
      session.finetuners[ObjectIdentifier(h)] = ft
      return .record(Record([("step", .number(Double(ft.optimizer.step))), ("loss", .number(ft.losses.last ?? .nan)), ("clips", .number(Double(clips.count)))]))
    })
    i.register(Command("evaluate", topic: "train", summary: "Evaluate a fine-tuned model on a manifest's rows, averaging K clips spread over each video: UAR/WAR (+ confusion) for classes, PCC/CCC per target for regression.",
                       params: [.positional("model", .handle("model"), "a fine-tuned model"), .positional("manifest", .string, "a manifest .csv"),
                                .option("split", .string, "rows to evaluate (\"\" = all)", default: .string("test")),
                                .option("clips", .integer, "clips per video, averaged (the paper uses 2)", default: .number(2)),
                                .option("fold", .integer, "k-fold: evaluate on this fold's rows", default: .nilValue)] + clipParams,
                       returns: "record {uar, war, weighted_f1, predicted, actual} or per target {pcc, ccc, one_minus_mae}", example: "r = evaluate f \"synth/expressions.csv\" split: \"test\"") { a, _ in
      let h = try a.handle("model", as: ModelHandle.self)
      guard let model = h.finetune else { throw ScriptError(.runtime, "evaluate: needs a fine-tuning model", at: a.location) }
      let (m, chosen, root, spec) = try rows(a, session: session, split: try a.string("split"), foldTest: true)
      let classification = !m.classNames.isEmpty || m.labelNames == ["label"]
      let ft = session.finetuners[ObjectIdentifier(h)] ?? Finetuner(model: model, task: classification ? .classification(smoothing: 0) : .regression(loss: "mse"), totalSteps: 1, batch: 1)
      var videos: [[Tensor]] = [], actual: [[Double]] = []
      for r in chosen {
        let reader = try VideoReader(path: r.path.hasPrefix("/") ? r.path : root + "/" + r.path)
        let starts = ClipSampler.uniformStarts(k: try a.int("clips"), frames: spec.frames, stride: spec.stride, frameCount: reader.info.frameCount)
        videos.append(try starts.map { try reader.clip(spec, start: $0).tensor })
        actual.append(r.labels)
      }
      let out = try ft.predict(videos: videos)
      if classification {
        let p = out.map { v in v.indices.max { v[$0] < v[$1] } ?? 0 }, t = actual.map { Int($0[0]) }
        let k = max(model.config.numClasses, (t.max() ?? 0) + 1)
        return .record(Record([("uar", .number(Metrics.uar(predicted: p, actual: t, classes: k))), ("war", .number(Metrics.war(predicted: p, actual: t))),
                               ("weighted_f1", .number(Metrics.weightedF1(predicted: p, actual: t, classes: k))),
                               ("predicted", .list(p.map { .number(Double($0)) })), ("actual", .list(t.map { .number(Double($0)) }))]))
      }
      var fields: [(String, Value)] = []
      for (j, name) in m.labelNames.enumerated() where j < (out.first?.count ?? 0) {
        let x = out.map { $0[j] }, y = actual.map { $0[j] }
        fields.append((name, .record(Record([("pcc", .number(Metrics.pcc(x, y))), ("ccc", .number(Metrics.ccc(x, y))), ("one_minus_mae", .number(Metrics.oneMinusMAE(x, y)))]))))
      }
      return .record(Record(fields))
    })
  }
}
