import Foundation
import Plot
import SVFAP
import Script
import Tensor

/// Commands for incremental pretraining (topic "train"): train some steps, look, train more.
enum TrainCommands {
  static func register(into i: Interpreter, session: Session) {
    i.register(Command("train", topic: "train", summary: "Pretrain a model for some steps on clips; the optimizer, schedule and log persist, so calls continue one run. Ctrl-C stops at a step boundary.",
                       params: [.positional("model", .handle("model"), "a pretraining model"),
                                .positional("clips", .any, "a clip batch, or a list of them"),
                                .option("steps", .integer, "steps in this call", default: .number(10)),
                                .option("batch", .integer, "clips per step", default: .number(1)),
                                .option("lr", .number, "base learning rate per 256 clips (first call)", default: .number(3e-4)),
                                .option("total", .integer, "steps of the whole run, for the cosine schedule (first call)", default: .number(1000)),
                                .option("mask_ratio", .number, "tube mask ratio", default: .number(0.9)),
                                .option("clip_grad", .number, "gradient-norm clip", default: .nilValue),
                                .option("accumulate", .integer, "micro-batches per update (effective batch = batch x accumulate)", default: .number(1)),
                                .option("log", .string, "JSON-lines log file, one object per step", default: .nilValue),
                                .option("every", .integer, "print a progress line every N steps", default: .number(10)),
                                .option("live", .integer, "draw a text plot of the loss every N steps (on a terminal; otherwise once at the end); 0 = never", default: .number(0))],
                       returns: "record {step, loss, stopped}", example: "train m clip steps: 50 batch: 2") { a, interp in
      let m = try a.handle("model", as: ModelHandle.self)
      guard let model = m.pretrain else { throw ScriptError(.runtime, "train: the model is a fine-tuning model; build one with task: \"pretrain\"", at: a.location) }
      var clips: [Tensor] = []
      switch a["clips"] {
      case .handle(let h as TensorHandle): clips = [h.tensor]
      case .list(let items):
        for item in items {
          guard case .handle(let h as TensorHandle) = item else { throw ScriptError(.runtime, "train: clips must be clip handles, got \(item.typeName)", at: a.location) }
          clips.append(h.tensor)
        }
      default: throw ScriptError(.runtime, "train: 'clips' must be a clip or a list of clips, got \(a["clips"].typeName)", at: a.location)
      }
      let batch = try a.int("batch"), steps = try a.int("steps"), every = max(1, try a.int("every"))
      guard batch >= 1, steps >= 0 else { throw ScriptError(.runtime, "train: batch must be >= 1 and steps >= 0", at: a.location) }
      if m.trainer == nil {
        m.trainer = Pretrainer(model: model, totalSteps: try a.int("total"), batch: batch, baseLR: try a.number("lr"),
                               maskRatio: try a.number("mask_ratio"), seed: session.nextSeed())
      }
      let t = m.trainer!
      t.maskRatio = try a.number("mask_ratio")
      if a.has("clip_grad") { t.clipGrad = try a.number("clip_grad") }
      t.accumulate = max(1, try a.int("accumulate"))
      if a.has("log") { t.logPath = session.resolve(try a.string("log")) }
      let stop: Pretrainer.Stop
      let live = try a.int("live"), terminal = isatty(1) == 1 && session.interactive
      let startStep = t.step
      func drawLive() {
        let xs = t.log.map { Double($0.step) }, ys = t.log.map(\.loss)
        let fig = Figure(title: "loss", panels: [.curves(series: [(name: "loss", x: xs, y: ys)], xLabel: "step", yLabel: "loss", logY: false, title: "")],
                         columns: 1, panelWidth: 560, panelHeight: 160)
        if let text = try? Gnuplot.shared.render(fig, to: nil, terminal: .dumb) { interp.output(text) }
      }
      do {
        stop = try t.train(clips: clips, steps: steps, batch: batch, shouldStop: { Interrupt.pending }) { e in
          let done = e.step - startStep
          if terminal && live == 0 {
            // A progress bar redrawn in place: step/total, loss, lr, clips/s, ETA.
            let width = 24, filled = width * done / max(steps, 1)
            let eta = Double(steps - done) * Double(batch * t.accumulate) / max(e.clipsPerSecond, 1e-9)
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            let line = String(format: "\r[%@] %d/%d  loss %.4f  lr %.2e  %.1f clips/s  ETA %.0fs", bar, done, steps, e.loss, e.lr, e.clipsPerSecond, eta)
            FileHandle.standardOutput.write(Data(line.utf8))
            if done == steps { FileHandle.standardOutput.write(Data("\n".utf8)) }
          } else if e.step % every == 0 {
            interp.output(String(format: "step %5d  loss %.4f  lr %.2e  grad %.3f  %.1f clips/s", e.step, e.loss, e.lr, e.gradNorm, e.clipsPerSecond))
          }
          if live > 0 && terminal && e.step % live == 0 { drawLive() }
        }
        if live > 0 && !terminal && !t.log.isEmpty { drawLive() }
      } catch let e as SVFAPError {
        throw ScriptError(.runtime, "train: \(e)", at: a.location)
      }
      var stopped = "finished"
      switch stop {
      case .finished: break
      case .interrupted:
        Interrupt.clear()
        stopped = "interrupted"
        interp.output("stopped by Ctrl-C after step \(t.step); the model and optimizer are kept (save_state to keep them on disk)")
      case .nonFinite(let s):
        stopped = "non-finite loss"
        interp.output("stopped: the loss at step \(s) is not finite; the parameters are those of step \(s - 1)")
      }
      return .record(Record([("step", .number(Double(t.step))), ("loss", .number(t.log.last?.loss ?? .nan)), ("stopped", .string(stopped))]))
    })
    i.register(Command("save_state", topic: "train", summary: "Write a resumable training checkpoint (weights, optimizer moments, schedule, RNG, step, config, log), atomically.",
                       params: [.positional("model", .handle("model"), "a model that has been trained"), .positional("path", .string, "output .safetensors file")],
                       example: "save_state m \"runs/tiny-step200.safetensors\"") { a, interp in
      let m = try a.handle("model", as: ModelHandle.self)
      guard let t = m.trainer else { throw ScriptError(.runtime, "save_state: the model has not been trained in this session (use save for weights only)", at: a.location) }
      let path = session.resolve(try a.string("path"))
      do { try t.save(to: path) } catch { throw ScriptError(.io, "save_state: \(error)", at: a.location) }
      interp.output("saved training state at step \(t.step) to \(path)")
      return .nilValue
    })
    i.register(Command("resume", topic: "train", summary: "Load a training checkpoint written by save_state; training continues exactly where it stopped.",
                       params: [.positional("path", .string, "a save_state file")], returns: "model",
                       example: "m = resume \"runs/tiny-step200.safetensors\"") { a, _ in
      let path = session.resolve(try a.string("path"))
      guard FileManager.default.fileExists(atPath: path) else { throw ScriptError(.io, "resume: no file '\(path)'", at: a.location) }
      let t = try Pretrainer.resume(from: path)
      let h = ModelHandle(preset: "resumed", pretrain: t.model)
      h.trainer = t
      return .handle(h)
    })
  }
}
