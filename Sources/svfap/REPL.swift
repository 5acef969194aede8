@preconcurrency import CReadline
import Foundation
import SafeFiles
import Script
import Synchronization
import Workbench

/// The interactive prompt on GNU readline: history in ~/.svfap_history, tab completion of commands,
/// options of the command being typed, variables and file paths (inside a string), multi-line input
/// while a block or bracket is open, Ctrl-C that stops a running command at a safe point (or clears
/// the line at the prompt), Ctrl-D to leave.
enum REPL {
  /// Whether readline is waiting at the prompt (the SIGINT handler then clears the line).
  static let atPrompt = Atomic<Bool>(false)
  /// Set by Ctrl-C at the prompt: drop any pending continuation lines.
  static let dropPending = Atomic<Bool>(false)
  nonisolated(unsafe) static var interpreter: Interpreter?
  nonisolated(unsafe) static var candidates: [String] = []
  nonisolated(unsafe) static var candidateIndex = 0

  static var historyPath: String {
    (ProcessInfo.processInfo.environment["HOME"] ?? ".") + "/.svfap_history"
  }

  static func run(session: Session, banner: String?) -> Int32 {
    let interp = session.interpreter
    session.interactive = true
    interpreter = interp
    rl_readline_name = UnsafePointer(strdup("svfap"))
    rl_attempted_completion_function = { text, start, end in REPL.complete(text, start, end) }
    using_history()
    // The history file must be a regular file (created when missing): a FIFO or device there would
    // block readline forever; then the session runs without saved history and says so.
    var keepHistory = true
    do { close(try SafeFile.open(historyPath, flags: O_RDWR | O_CREAT, mode: 0o600)) } catch {
      keepHistory = false
      print("warning: history is not saved this session: \(error)")
    }
    if keepHistory { read_history(historyPath) }
    stifle_history(5000)
    signal(SIGINT) { _ in
      if REPL.atPrompt.load(ordering: .relaxed) {
        REPL.dropPending.store(true, ordering: .relaxed)
        rl_crlf()
        rl_on_new_line()
        rl_replace_line("", 0)
        rl_redisplay()
      } else {
        Interrupt.request()
      }
    }
    Interrupt.unblock()
    if let banner { print(banner) }
    var pending = ""
    while true {
      let prompt = pending.isEmpty ? "svfap> " : "  ...> "
      atPrompt.store(true, ordering: .relaxed)
      let raw = readline(prompt)
      atPrompt.store(false, ordering: .relaxed)
      if dropPending.exchange(false, ordering: .relaxed) { pending = "" }
      guard let raw else {  // Ctrl-D: ends the session only at an empty prompt
        print("")
        if pending.isEmpty { break }
        pending = ""
        print("(the unfinished input was dropped; Ctrl-D at an empty prompt ends the session)")
        continue
      }
      let line = String(cString: raw)
      free(raw)
      pending += (pending.isEmpty ? "" : "\n") + line
      if pending.trimmingCharacters(in: .whitespaces).isEmpty {
        pending = ""
        continue
      }
      if !interp.isComplete(pending) { continue }
      add_history(pending)
      if keepHistory { append_history(1, historyPath) }
      Interrupt.clear()
      do { try interp.run(pending, file: "<input>") } catch let e as ScriptError {
        printError(e.description)
      } catch {
        printError("error: \(error)")
      }
      pending = ""
    }
    if keepHistory { write_history(historyPath) }
    return 0
  }

  /// readline's completion hook: file names inside a string, option names after a command, else
  /// names.
  static func complete(_ text: UnsafePointer<CChar>?, _ start: Int32, _ end: Int32)
    -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
  {
    let line = String(cString: rl_line_buffer)
    let before = String(line.prefix(Int(start)))
    // Inside a string literal: let readline complete file names.
    if before.filter({ $0 == "\"" }).count % 2 == 1 {
      rl_attempted_completion_over = 0
      return nil
    }
    rl_attempted_completion_over = 1
    // The shared completion (the kernel's too); readline replaces its own word from `start`, which
    // may begin before ours (it keeps `clip.fa` whole): the matches carry that head.
    let upToCursor = String(line.prefix(Int(end)))
    let result = interpreter?.completion(in: upToCursor, at: upToCursor.count)
    let head =
      result.map { String(upToCursor.dropFirst(Int(start)).prefix(max(0, $0.start - Int(start)))) }
      ?? ""
    let matches = (result?.matches ?? []).map { head + $0 }
    candidates = matches
    candidateIndex = 0
    if candidates.count == 1, candidates[0].hasSuffix(":") { rl_completion_append_character = 32 }
    return rl_completion_matches(text) { _, state in
      if state == 0 { REPL.candidateIndex = 0 }
      guard REPL.candidateIndex < REPL.candidates.count else { return nil }
      defer { REPL.candidateIndex += 1 }
      return strdup(REPL.candidates[REPL.candidateIndex])
    }
  }
}
