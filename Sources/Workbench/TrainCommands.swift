import Foundation
import Media
import Plot
import SVFAP
import Script
import Tensor

/// Commands for incremental pretraining (topic "train"): train some steps, look, train more.
enum TrainCommands {
  static func register(into i: Interpreter, session: Session) {
    i.register(
      Command(
        "train", topic: "train",
        summary:
          "Pretrain a model for some steps on clips in memory, or on a manifest's videos streamed from disk (random starts, reshuffled every epoch); the optimizer, schedule, log and stream position persist, so calls continue one run. Ctrl-C stops at a step boundary.",
        params: [
          .positional("model", .handle("model"), "a pretraining model"),
          .positional("clips", .any, "a clip batch, a list of them, or a manifest .csv to stream"),
          .option("split", .string, "with a manifest: rows to use (\"\" = all)", default: .string("")),
          .option("steps", .integer, "steps in this call", default: .number(10)).within(Limits.steps),
          .option("batch", .integer, "clips per step", default: .number(1)).within(Limits.batch),
          .option("lr", .number, "base learning rate per 256 clips (first call)", default: .number(3e-4)).within(Limits.learningRate),
          .option("total", .integer, "steps of the whole run, for the cosine schedule (first call)", default: .number(1000)).within(Limits.steps),
          .option("mask_ratio", .number, "tube mask ratio", default: .number(0.9)).within(Limits.fraction),
        ] + StepPlan.params + [
          .option("live", .integer, "draw a text plot of the loss every N steps (on a terminal; otherwise once at the end); 0 = never", default: .number(0))
            .within(Limits.steps)
        ] + FinetuneCommands.clipParams,
        returns: "record {step, loss, stopped}", example: "train m clip steps: 50 batch: 2"
      ) { [unowned session] a, interp in
        let m = try a.handle("model", as: ModelHandle.self)
        guard let model = m.pretrain else {
          throw ScriptError(.runtime, "train: the model is a fine-tuning model (use finetune); build one with task: \"pretrain\"", at: a.location)
        }
        var clips: [Tensor] = []
        var streamed: (manifest: Manifest, rows: [ManifestRow], root: String, spec: ClipSpec)?
        switch a["clips"] {
        case .string: streamed = try FinetuneCommands.rows(a, session: session, split: try a.string("split"), manifestParam: "clips")
        case .handle(let h as TensorHandle): clips = [h.tensor]
        case .list(let items):
          for item in items {
            guard case .handle(let h as TensorHandle) = item else {
              throw ScriptError(.runtime, "train: clips must be clip handles, got \(item.typeName)", at: a.location)
            }
            clips.append(h.tensor)
          }
        default: throw ScriptError(.runtime, "train: 'clips' must be a clip or a list of clips, got \(a["clips"].typeName)", at: a.location)
        }
        let batch = try a.int("batch")
        let plan = try StepPlan(a, clips: streamed?.rows.count ?? clips.reduce(0) { $0 + $1.shape[0] }, batch: batch) { _ in 1000 }
        let t: Pretrainer
        if let existing = m.trainer {
          t = existing
        } else {
          t = Pretrainer(
            model: model, totalSteps: plan.total, batch: batch * max(1, try a.int("accumulate")), baseLR: try a.number("lr"),
            maskRatio: try a.number("mask_ratio"), seed: session.nextSeed())
          if let w = plan.warmup { t.schedule.warmupSteps = w }
          m.trainer = t
        }
        t.maskRatio = try a.number("mask_ratio")
        if a.has("clip_grad") { t.clipGrad = try a.number("clip_grad") }
        t.accumulate = max(1, try a.int("accumulate"))
        if a.has("log") { t.logPath = session.resolve(try a.string("log")) }
        let live = try a.int("live"), terminal = isatty(1) == 1 && session.interactive
        let progress = TrainingProgress(
          steps: plan.steps, startStep: t.step, every: max(1, try a.int("every")), clipsPerStep: batch * t.accumulate,
          terminal: terminal && live == 0, interp: interp)
        func drawLive() {
          let xs = t.log.map { Double($0.step) }, ys = t.log.map(\.loss)
          let fig = Figure(
            title: "loss", panels: [.curves(series: [(name: "loss", x: xs, y: ys)], xLabel: "step", yLabel: "loss", logY: false, title: "")],
            columns: 1, panelWidth: 560, panelHeight: 160)
          if let text = try? Gnuplot.shared.render(fig, to: nil, terminal: .dumb) { interp.output(text) }
        }
        let autosave = try a.bool("autosave")
        let stop: TrainingStop
        do {
          let report: (StepLog) -> Void = { e in
            progress.report(e)
            if live > 0 && terminal && e.step % live == 0 { drawLive() }
            session.autosaveStep(t, name: "pretrain", enabled: autosave)
          }
          if let streamed {
            let source = StreamedClips(
              manifest: Manifest(labelNames: [], rows: streamed.rows.map { ManifestRow(path: $0.path, labels: []) }), root: streamed.root,
              spec: streamed.spec, batch: batch, onError: try a.string("on_error") == "stop" ? .stop : .skip, run: t, interp: interp)
            stop = try t.train(steps: plan.steps, shouldStop: { Interrupt.pending }, progress: report) {
              do { return try source.next()?.0 } catch let e as MediaError {
                throw ScriptError(.io, "train: \(e) (on_error: \"skip\" to go on without it)", at: a.location)
              }
            }
          } else {
            stop = try t.train(clips: clips, steps: plan.steps, batch: batch, shouldStop: { Interrupt.pending }, progress: report)
          }
          if live > 0 && !terminal && !t.log.isEmpty { drawLive() }
        } catch let e as SVFAPError {
          throw ScriptError(.runtime, "train: \(e)", at: a.location)
        }
        session.autosaveStep(t, name: "pretrain", enabled: autosave, force: true)
        let stopped = TrainingProgress.ended(stop, step: t.step, interp: interp)
        return .record(Record([("step", .number(Double(t.step))), ("loss", .number(t.log.last?.loss ?? .nan)), ("stopped", .string(stopped))]))
      })
    i.register(
      Command(
        "save_state", topic: "train",
        summary:
          "Write a resumable training checkpoint of a pretraining or fine-tuning run (weights, optimizer moments, schedule, RNG, step, config, log), atomically.",
        params: [.positional("model", .handle("model"), "a model that has been trained"), .positional("path", .string, "output .safetensors file")],
        example: "save_state m \"runs/tiny-step200.safetensors\""
      ) { [unowned session] a, interp in
        let m = try a.handle("model", as: ModelHandle.self)
        guard let t = m.run else {
          throw ScriptError(.runtime, "save_state: the model has not been trained in this session (use save for weights only)", at: a.location)
        }
        let path = session.resolve(try a.string("path"))
        do { try t.save(to: path) } catch { throw ScriptError(.io, "save_state: \(error)", at: a.location) }
        interp.output("saved training state at step \(t.step) to \(path)")
        return .nilValue
      })
    i.register(
      Command(
        "resume", topic: "train", summary: "Load a training checkpoint written by save_state; training continues exactly where it stopped.",
        params: [.positional("path", .string, "a save_state file")], returns: "model",
        example: "m = resume \"runs/tiny-step200.safetensors\""
      ) { [unowned session] a, _ in
        let path = session.resolve(try a.string("path"))
        guard FileManager.default.fileExists(atPath: path) else { throw ScriptError(.io, "resume: no file '\(path)'", at: a.location) }
        do {
          let kind = try SafeTensorsFile(path: path).metadata["svfap.finetuning"] != nil ? "finetune" : "pretrain"
          if kind == "finetune" {
            let t = try Finetuner.resume(from: path)
            let h = ModelHandle(preset: "resumed", finetune: t.model)
            h.finetuner = t
            return .handle(h)
          }
          let t = try Pretrainer.resume(from: path)
          let h = ModelHandle(preset: "resumed", pretrain: t.model)
          h.trainer = t
          return .handle(h)
        } catch let e as SVFAPError { throw ScriptError(.io, "resume: \(e)", at: a.location) }
      })
  }
}
