import Foundation
import SVFAP
import Script

/// `save_state`: a resumable checkpoint of a run.
struct SaveState: SessionCommand {
  unowned let session: Session
  let declaration = CommandDeclaration(
    "save_state", topic: "train",
    summary:
      """
      Write a resumable training checkpoint of a pretraining or fine-tuning run (weights, \
      optimizer moments, schedule, RNG, step, config, log), atomically.
      """,
    params: [
      .positional("model", .handle("model"), "a model that has been trained"),
      .positional("path", .string, "output .safetensors file"),
    ],
    example: "save_state m \"runs/tiny-step200.safetensors\"", rootOnly: true)

  func run(_ a: Arguments, in interp: Interpreter) throws -> Value {
    let m = try a.handle("model", as: ModelHandle.self)
    guard let t = m.run else {
      throw a.error("the model has not been trained in this session (use save for weights only)")
    }
    let path = session.resolve(try a.string("path"))
    do { try t.save(to: path) } catch { throw a.error("\(error)", io: true) }
    interp.output("saved training state at step \(t.step) to \(path)")
    return .nilValue
  }
}

/// `resume`: a run from a save_state file.
struct Resume: SessionCommand {
  unowned let session: Session
  let declaration = CommandDeclaration(
    "resume", topic: "train",
    summary:
      """
      Load a training checkpoint written by save_state; training continues exactly where it \
      stopped.
      """,
    params: [.positional("path", .string, "a save_state file")], returns: "model",
    example: "m = resume \"runs/tiny-step200.safetensors\"")

  func run(_ a: Arguments, in interp: Interpreter) throws -> Value {
    let path = try session.existingFile(a)
    let handle: ModelHandle
    do {
      if try SafeTensorsFile(path: path).metadata["svfap.finetuning"] != nil {
        let t = try Finetuner.resume(from: path)
        handle = ModelHandle(
          preset: t.model.config.presetName ?? "resumed", .finetuning(t.model, run: t))
      } else {
        let t = try Pretrainer.resume(from: path)
        handle = ModelHandle(
          preset: t.model.config.presetName ?? "resumed", .pretraining(t.model, run: t))
      }
    } catch let e as SVFAPError { throw a.error("\(e)", io: true) }
    guard let run = handle.run else { return .handle(handle) }
    interp.output("resumed at step \(run.step): \(run.settings.scheduleLine)")
    // The run continues its own log, which a killed process may have left ahead of this
    // checkpoint: its later steps are dropped so that no step is logged twice.
    if let log = run.logPath, session.collective.isRoot {
      do {
        let dropped = try trimTrainingLog(log, toStep: run.step)
        if dropped > 0 {
          interp.output(
            "log: \(log) continues; dropped \(dropped) step(s) after \(run.step) that this checkpoint does not hold"
          )
        }
      } catch { interp.output("log: \(error) (the run goes on without it)") }
    }
    return .handle(handle)
  }
}
