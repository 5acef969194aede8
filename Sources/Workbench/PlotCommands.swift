import Foundation
import Media
import Plot
import SVFAP
import Script
import Tensor

/// Commands that draw figures with gnuplot (topic "plot"). Each writes a PNG (or SVG) and prints its path.
enum PlotCommands {
  static func save(_ f: Figure, _ a: Arguments, _ interp: Interpreter, session: Session, text: Bool = false) throws -> Value {
    let path: String
    if a.has("file") {
      path = session.resolve(try a.string("file"))
      var st = stat()
      if stat(path, &st) == 0, (st.st_mode & S_IFMT) != S_IFREG {
        throw ScriptError(.io, "\(a.command): \(path) exists and is not a regular file; refusing to replace it", at: a.location)
      }
      try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    } else {
      let dir = session.resolve("figures")
      try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
      // Never over an earlier figure: a new session in the same folder continues the numbering.
      var candidate: String
      repeat {
        session.figureCount += 1
        candidate = dir + String(format: "/fig-%03d.png", session.figureCount)
      } while FileManager.default.fileExists(atPath: candidate) || FileManager.default.fileExists(atPath: candidate.dropLast(4) + ".svg")
      path = candidate
    }
    do {
      try Gnuplot.shared.render(f, to: path, terminal: path.hasSuffix(".svg") ? .svg : .png)
      if text || (a.values["text"].map { $0 == .bool(true) } ?? false) { interp.output(try Gnuplot.shared.render(f, to: nil, terminal: .dumb)) }
    } catch let e as PlotError { throw ScriptError(.io, "\(a.command): \(e)", at: a.location) }
    interp.output("figure: \(path)")
    session.lastFigure = path
    return .nilValue
  }

  static let common: [Param] = [.option("file", .string, "output .png or .svg (default: figures/fig-NNN.png)", default: .nilValue)]

  static func register(into i: Interpreter, session: Session) {
    i.register(
      Command(
        "show", topic: "plot",
        summary:
          "Draw a value: a clip (montage of its frames), a reconstruct result (original | masked | reconstruction | with visible pasted, per frame) or a trained model (loss, lr, grad norm, throughput curves).",
        params: [
          .positional("value", .any, "a clip, a reconstruct result or a trained model"),
          .option(
            "mode", .string,
            "reconstructions: \"patch-stats\" (un-normalize with the hidden patch's stats; uses hidden information) or \"normalized\" (target space)",
            default: .string("patch-stats")),
          .option("frames", .list, "frames of a reconstruction to show", default: .list([0, 4, 8, 12].map { .number(Double($0)) })),
          .option("text", .bool, "also print a text rendering (curves)", default: .bool(false)),
        ] + common,
        returns: "nil (prints the figure's path)", example: "show reconstruct(m, clip, mask: tube(0.9, seed: 2))"
      ) { [unowned session] a, interp in
        switch a["value"] {
        case .handle(let h as TensorHandle) where h.kind == "clip":
          return try save(Figures.montage(h.tensor, indices: (h as? ClipHandle)?.clip.frameIndices), a, interp, session: session)
        case .handle(let m as ModelHandle):
          guard let t = m.run, !t.log.isEmpty else { throw ScriptError(.runtime, "show: the model has no training log yet (train it first)", at: a.location) }
          return try save(Figures.trainingCurves([(m.preset, t.log)]), a, interp, session: session, text: true)
        case .record(let r):
          guard case .handle(let p as TensorHandle)? = r["prediction"], case .handle(let mk as MaskHandle)? = r["mask"],
            case .handle(let clip as TensorHandle)? = r["clip"], case .handle(let m as ModelHandle)? = r["model"]
          else {
            throw ScriptError(.runtime, "show: this record is not a reconstruct result", at: a.location)
          }
          guard let mode = Figures.ReconstructionMode(rawValue: try a.string("mode")) else {
            throw ScriptError(
              .runtime, "show: mode must be \"patch-stats\" or \"normalized\" (a raw-pixel head is not trained by this workbench)", at: a.location)
          }
          let mask = try mk.realize(batch: clip.tensor.shape.first ?? 1, config: m.config)
          try Figures.check(reconstructionOf: clip.tensor, prediction: p.tensor, mask: mask, config: m.config)
          let frames = try a.indices("frames", below: m.config.frames)
          return try save(
            Figures.reconstruction(clip.tensor, prediction: p.tensor, mask: mask, config: m.config, mode: mode, frames: frames), a, interp, session: session)
        default:
          throw ScriptError(.runtime, "show: cannot draw a \(a["value"].typeName) (a clip, a reconstruct result or a trained model)", at: a.location)
        }
      })
    i.register(
      Command(
        "show_mask", topic: "plot", summary: "The first frame of each time slice with the masked tubes greyed.",
        params: [
          .positional("clip", .handle("clip"), "the clip"), .positional("mask", .handle("mask"), "the mask"),
          .option("model", .handle("model"), "a model whose token grid to use (default: svfap-base's)", default: .nilValue),
        ] + common,
        returns: "nil (prints the figure's path)", example: "show_mask clip tube(0.9, seed: 2)"
      ) { [unowned session] a, interp in
        let clip = try a.handle("clip", as: TensorHandle.self), mk = try a.handle("mask", as: MaskHandle.self)
        let cfg = a.has("model") ? try a.handle("model", as: ModelHandle.self).config : try Figures.grid(for: clip.tensor)
        try Figures.check(clip: clip.tensor, fits: cfg)
        let (fig, _) = Figures.maskFigure(clip.tensor, mask: try mk.realize(batch: 1, config: cfg), config: cfg)
        return try save(fig, a, interp, session: session)
      })
    i.register(
      Command(
        "show_curves", topic: "plot", summary: "Training curves of several trained models on one plot (or of JSON-lines logs).",
        params: [.variadic("runs", "trained models or log file paths")] + [.option("text", .bool, "also print a text rendering", default: .bool(true))]
          + common,
        returns: "nil (prints the figure's path)", example: "show_curves m1 m2"
      ) { [unowned session] a, interp in
        var runs: [(String, [StepLog])] = []
        for v in try a.list("runs") {
          switch v {
          case .handle(let m as ModelHandle):
            guard let log = m.run?.log, !log.isEmpty else {
              throw ScriptError(.runtime, "show_curves: the \(m.preset) model has no training log yet (train it first)", at: a.location)
            }
            runs.append((m.preset + " #\(runs.count + 1)", log))
          case .string(let p):
            let text = (try? String(contentsOfFile: session.resolve(p), encoding: .utf8)) ?? ""
            let logs = text.split(separator: "\n").compactMap { try? JSONDecoder().decode(StepLog.self, from: Data($0.utf8)) }
            guard !logs.isEmpty else { throw ScriptError(.io, "show_curves: no step records in '\(p)'", at: a.location) }
            runs.append(((p as NSString).lastPathComponent, logs))
          default: throw ScriptError(.runtime, "show_curves: \(v.typeName) is not a model or a log file", at: a.location)
          }
        }
        guard runs.contains(where: { !$0.1.isEmpty }) else {
          throw ScriptError(.runtime, "show_curves: no training steps to draw (give trained models or JSON-lines logs)", at: a.location)
        }
        return try save(Figures.trainingCurves(runs), a, interp, session: session)
      })
    i.register(
      Command(
        "show_attention", topic: "plot",
        summary:
          "Attention of a fine-tuning model's stage-1 layer drawn on the frames: one query token's attention (mean over heads unless a head is named), or attention rollout over the stage-1 layers.",
        params: [
          .positional("model", .handle("model"), "a fine-tuning model"), .positional("clip", .handle("clip"), "one clip"),
          .option("layer", .integer, "stage-1 block", default: .number(0)).within(Limits.index),
          .option("head", .integer, "a head (default: mean over heads)", default: .nilValue).within(Limits.index),
          .option("query", .integer, "query token (default: mean over all queries)", default: .nilValue).within(Limits.index),
          .option("rollout", .bool, "attention rollout across the stage-1 layers", default: .bool(false)),
        ] + common,
        returns: "nil (prints the figure's path)", example: "show_attention m clip layer: 3 query: 455"
      ) { [unowned session] a, interp in
        let m = try a.handle("model", as: ModelHandle.self), clip = try a.handle("clip", as: TensorHandle.self)
        let model = try m.finetuneModel(for: a)
        let c = model.config
        let blocks = model.blocks.prefix(c.stageDepths[0]).compactMap { $0 as? Block }
        let layer = try a.int("layer")
        guard (0..<blocks.count).contains(layer) else { throw ScriptError(.runtime, "show_attention: layer must be 0..<\(blocks.count)", at: a.location) }
        for b in blocks { b.attn.probe.keep = true }
        defer {
          for b in blocks {
            b.attn.probe.keep = false
            b.attn.probe.last = nil
          }
        }
        model.train(false)
        _ = try withNoGrad { try model(clip.tensor.slice(axis: 0, start: 0, count: 1)) }
        let n = c.tokenCount
        // Per layer: (N, N) attention, head-averaged or one head.
        func matrix(_ b: Block) throws -> [Double] {
          guard let p = b.attn.probe.last else { return [] }
          let heads = p.shape[1], v = p.toDoubles()
          if a.has("head") {
            let h = try a.int("head")
            guard (0..<heads).contains(h) else { throw ScriptError(.runtime, "show_attention: head must be 0..<\(heads)", at: a.location) }
            return Array(v[(h * n * n)..<((h + 1) * n * n)])
          }
          var out = [Double](repeating: 0, count: n * n)
          for h in 0..<heads { for i in 0..<(n * n) { out[i] += v[h * n * n + i] / Double(heads) } }
          return out
        }
        var att = try matrix(blocks[layer])
        var title = "attention, stage 1 layer \(layer)"
        if try a.bool("rollout") {
          // Rollout: product over layers of (A + I) / 2, rows renormalized.
          var r = [Double](repeating: 0, count: n * n)
          for i in 0..<n { r[i * n + i] = 1 }
          for b in blocks.prefix(layer + 1) {
            let A = try matrix(b)
            var m2 = [Double](repeating: 0, count: n * n)
            for i in 0..<n {
              for k in 0..<n {
                let aik = 0.5 * A[i * n + k] + (i == k ? 0.5 : 0)
                if aik == 0 { continue }
                for j in 0..<n { m2[i * n + j] += aik * r[k * n + j] }
              }
            }
            r = m2
          }
          att = r
          title = "attention rollout over stage-1 layers 0...\(layer)"
        }
        var values = [Double](repeating: 0, count: n)
        if a.has("query") {
          let q = try a.int("query")
          guard (0..<n).contains(q) else { throw ScriptError(.runtime, "show_attention: query must be 0..<\(n)", at: a.location) }
          values = Array(att[(q * n)..<((q + 1) * n)])
          title += ", query token \(q)"
        } else {
          for i in 0..<n { for j in 0..<n { values[j] += att[i * n + j] / Double(n) } }
          title += ", mean over queries"
        }
        if a.has("head") { title += ", head \(try a.int("head"))" } else { title += ", mean over heads" }
        return try save(Figures.tokenHeat(clip.tensor, values: values, slices: c.timeSlices, config: c, title: title), a, interp, session: session)
      })
    i.register(
      Command(
        "show_bottleneck", topic: "plot",
        summary: "TPSBT's spatial bottleneck: for a stage and bottleneck token, its softmax weights over the spatial tokens of each time slice, on the frames.",
        params: [
          .positional("model", .handle("model"), "a fine-tuning model"), .positional("clip", .handle("clip"), "one clip"),
          .option("stage", .integer, "stage 2 or 3 (index 1 or 2)", default: .number(1)).within(0...16),
          .option("token", .integer, "bottleneck token 0..<G", default: .number(0)).within(Limits.index),
        ] + common,
        returns: "nil (prints the figure's path)", example: "show_bottleneck m clip stage: 1 token: 3"
      ) { [unowned session] a, interp in
        let m = try a.handle("model", as: ModelHandle.self), clip = try a.handle("clip", as: TensorHandle.self)
        let model = try m.finetuneModel(for: a)
        let stage = try a.int("stage"), token = try a.int("token")
        guard (1..<model.config.stageDepths.count).contains(stage) else {
          throw ScriptError(.runtime, "show_bottleneck: stage must be 1..<\(model.config.stageDepths.count)", at: a.location)
        }
        guard (0..<model.config.bottleneckTokens).contains(token) else {
          throw ScriptError(.runtime, "show_bottleneck: token must be 0..<\(model.config.bottleneckTokens)", at: a.location)
        }
        let sa = model.spatialDownsamples[stage - 1]
        sa.probe.keep = true
        defer {
          sa.probe.keep = false
          sa.probe.last = nil
        }
        model.train(false)
        _ = try withNoGrad { try model(clip.tensor.slice(axis: 0, start: 0, count: 1)) }
        guard let w = sa.probe.last else { return .nilValue }  // (1, t, G, S)
        let (t, g, s) = (w.shape[1], w.shape[2], w.shape[3]), v = w.toDoubles()
        let values = (0..<t).flatMap { ti in (0..<s).map { v[(ti * g + token) * s + $0] } }
        return try save(
          Figures.tokenHeat(
            clip.tensor, values: values, slices: t, config: model.config,
            title: "bottleneck token \(token) of stage \(stage + 1): weights over the spatial tokens per time slice"), a, interp, session: session)
      })
    i.register(
      Command(
        "show_confusion", topic: "plot", summary: "A confusion matrix with per-class recall from predicted and true class indices.",
        params: [
          .positional("predicted", .list, "predicted classes"), .positional("actual", .list, "true classes"),
          .option("classes", .list, "class names", default: .nilValue),
        ] + common,
        returns: "nil (prints the figure's path)", example: "show_confusion [0, 1, 1] [0, 1, 0] classes: [\"neutral\", \"happy\"]"
      ) { [unowned session] a, interp in
        let p = try a.indices("predicted", below: maxClasses), t = try a.indices("actual", below: maxClasses)
        guard p.count == t.count, let largest = (p + t).max() else {
          throw ScriptError(.runtime, "show_confusion: predicted and actual need the same non-zero length", at: a.location)
        }
        let names = a.has("classes") ? try a.list("classes").map { $0.description } : (0...largest).map(String.init)
        guard largest < names.count else {
          throw ScriptError(.runtime, "show_confusion: class \(largest) has no name (classes: names \(names.count))", at: a.location)
        }
        let m = Metrics.confusion(predicted: p, actual: t, classes: names.count)
        let recall = Metrics.recalls(predicted: p, actual: t, classes: names.count)
        let rows = zip(names, recall).map { "\($0) (\($1.map { String(format: "%.0f%%", $0 * 100) } ?? "-"))" }
        let fig = Figure(
          title: String(
            format: "UAR %.1f%%  WAR %.1f%%", Metrics.uar(predicted: p, actual: t, classes: names.count) * 100, Metrics.war(predicted: p, actual: t) * 100),
          panels: [.matrix(values: m.map { $0.map(Double.init) }, rowLabels: rows, columnLabels: names, title: "confusion (rows: true, with recall)")],
          columns: 1, panelWidth: 520, panelHeight: 460)
        return try save(fig, a, interp, session: session)
      })
    i.register(
      Command(
        "show_scatter", topic: "plot", summary: "Predicted against true values of a regression target, with PCC and CCC in the title.",
        params: [
          .positional("predicted", .list, "predicted values"), .positional("actual", .list, "true values"),
          .option("name", .string, "the target's name", default: .string("target")),
        ] + common,
        returns: "nil (prints the figure's path)", example: "show_scatter pv tv name: \"valence\""
      ) { [unowned session] a, interp in
        let p = try a.list("predicted").compactMap { v -> Double? in
          if case .number(let n) = v { return n }
          return nil
        }
        let t = try a.list("actual").compactMap { v -> Double? in
          if case .number(let n) = v { return n }
          return nil
        }
        guard p.count == t.count, !p.isEmpty else {
          throw ScriptError(.runtime, "show_scatter: predicted and actual need the same non-zero length", at: a.location)
        }
        let name = try a.string("name")
        let fig = Figure(
          title: String(format: "%@: PCC %.3f  CCC %.3f", name, Metrics.pcc(p, t), Metrics.ccc(p, t)),
          panels: [.scatter(x: t, y: p, xLabel: "true", yLabel: "predicted", title: name)], columns: 1, panelWidth: 420, panelHeight: 400)
        return try save(fig, a, interp, session: session)
      })
  }
}
