/// A failure of an experiment (bad request, nothing to train on, a row that stops the run), said in
/// words the caller can put next to a location.
public struct ExperimentError: Error, CustomStringConvertible, Sendable {
  /// What went wrong.
  public let message: String
  /// Whether the failure is about a file (the workbench reports it as an I/O error).
  public let isIO: Bool

  /// An error with its message.
  public init(_ message: String, io: Bool = false) { (self.message, isIO) = (message, io) }

  /// The message.
  public var description: String { message }
}
