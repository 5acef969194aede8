import Foundation
import Script
import Workbench

/// Running scripts without a prompt: files, `-e` text and piped standard input, with exit codes
/// 0 ok, 65 script error (scan/parse), 70 runtime error, 74 I/O error, 130 interrupted.
enum Batch {
  /// Runs `text` statement group by statement group (each complete chunk of lines), so output
  /// appears as it is produced; with `keepGoing`, errors are reported and the run continues.
  /// Returns the exit code.
  static func run(_ text: String, file: String, session: Session, keepGoing: Bool) -> Int32 {
    let interp = session.interpreter
    interp.endOnInterrupt = true  // Ctrl-C ends a script (exit 130), even inside a training call
    var worst: Int32 = 0
    var chunk = ""
    var startLine = 1, lineNo = 0
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    for (k, line) in lines.enumerated() {
      lineNo = k + 1
      if chunk.isEmpty { startLine = lineNo }
      chunk += (chunk.isEmpty ? "" : "\n") + line
      if !interp.isComplete(chunk) && k < lines.count - 1 { continue }
      // Pad with newlines so error locations keep the file's line numbers.
      let padded = String(repeating: "\n", count: startLine - 1) + chunk
      chunk = ""
      let who = session.collective.size > 1 ? "[rank \(session.collective.rank)] " : ""
      do { try interp.run(padded, file: file) } catch let e as ScriptError {
        printError(who + e.description)
        worst = max(worst, e.exitCode)
        if !keepGoing || e.kind == .interrupted || e.kind == .parse || e.kind == .scan {
          return e.exitCode
        }
      } catch {
        printError(who + "error: \(error)")
        return 70
      }
    }
    return worst
  }
}

/// Writes one line to standard error.
func printError(_ line: String) {
  FileHandle.standardError.write(Data((line + "\n").utf8))
}
