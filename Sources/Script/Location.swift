import Foundation

/// A place in a source text: file, 1-based line and column.
public struct SourceLocation: Sendable, Equatable, CustomStringConvertible {
  /// The file name (or "<input>").
  public var file: String
  /// 1-based line.
  public var line: Int
  /// 1-based column.
  public var column: Int

  /// A location.
  public init(file: String, line: Int, column: Int) {
    self.file = file
    self.line = line
    self.column = column
  }

  /// "file:line:column".
  public var description: String { "\(file):\(line):\(column)" }
}

/// What kind of failure a script error is; it decides the batch exit code.
public enum ScriptErrorKind: Sendable {
  /// Bad characters or an unterminated string (exit 65).
  case scan
  /// Bad syntax (exit 65).
  case parse
  /// A failure while running (exit 70).
  case runtime
  /// A file that cannot be read or written (exit 74).
  case io
  /// Ctrl-C (exit 130 in batch mode).
  case interrupted
}

/// An error of the language, with where it happened, the source line and a caret under the spot,
/// and, for runtime errors, the procedure calls that led there.
public struct ScriptError: Error, Sendable, CustomStringConvertible {
  /// Kind (decides the exit code).
  public let kind: ScriptErrorKind
  /// The message.
  public let message: String
  /// Where, if known.
  public var location: SourceLocation?
  /// The text of the line at `location`.
  public var sourceLine: String?
  /// Procedure frames, innermost first ("in proc f at file:3:5").
  public var trace: [String] = []
  /// The parser ran out of input: more lines could complete it (the prompt's continuation check).
  public var atEndOfInput = false

  /// An error.
  public init(
    _ kind: ScriptErrorKind, _ message: String, at location: SourceLocation? = nil,
    sourceLine: String? = nil
  ) {
    self.kind = kind
    self.message = message
    self.location = location
    self.sourceLine = sourceLine
  }

  /// This error with the text of its line taken from `lines` (the file's lines), unless it has one.
  public func withSourceLine(from lines: [Substring]) -> ScriptError {
    var e = self
    if e.sourceLine == nil, let l = location, l.line >= 1, l.line <= lines.count {
      e.sourceLine = String(lines[l.line - 1])
    }
    return e
  }

  /// "file:line:col: error: message", the source line, a caret, and the trace.
  public var description: String {
    var s = ""
    if let l = location { s += "\(l): " }
    // An interruption says what it stopped, when it says more than the word.
    s +=
      kind == .interrupted
      ? (message == "interrupted" ? message : "interrupted: \(message)") : "error: \(message)"
    if let line = sourceLine, let l = location {
      s += "\n  " + line + "\n  " + String(repeating: " ", count: max(l.column - 1, 0)) + "^"
    }
    for t in trace { s += "\n  " + t }
    return s
  }

  /// The batch-mode exit status for this error.
  public var exitCode: Int32 {
    switch kind {
    case .scan, .parse: return 65
    case .runtime: return 70
    case .io: return 74
    case .interrupted: return 130
    }
  }
}

/// `~` and `~/…` with the home folder ($HOME); any other path as it is.
public func expandingTilde(_ path: String) -> String {
  guard path == "~" || path.hasPrefix("~/"), let home = ProcessInfo.processInfo.environment["HOME"],
    !home.isEmpty
  else { return path }
  return home + path.dropFirst()
}
