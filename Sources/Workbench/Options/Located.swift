import Experiments
import Media
import SVFAP
import Script

/// A workbench command: a script command that belongs to a session.
protocol SessionCommand: ScriptCommand {
  /// The session it works in.
  var session: Session { get }
}

extension Arguments {
  /// Runs `body`, turning the layers' errors into this command's located errors (file errors as
  /// I/O).
  func located<T>(_ body: () throws -> T) throws -> T {
    do {
      return try body()
    } catch let e as ScriptError {
      throw e
    } catch let e as ExperimentError {
      throw ScriptError(e.isIO ? .io : .runtime, "\(command): \(e.message)", at: location)
    } catch let e as MediaError {
      throw ScriptError(.io, "\(command): \(e)", at: location)
    } catch {
      throw ScriptError(.runtime, "\(command): \(error)", at: location)
    }
  }

  /// A located error of this command.
  func error(_ message: String, io: Bool = false) -> ScriptError {
    ScriptError(io ? .io : .runtime, "\(command): \(message)", at: location)
  }
}
