import Foundation
import SafeFiles

/// The session's memory budget for the values the language builds (strings, lists): a value that
/// would outgrow it is a located error naming the budget, instead of an allocation failure that
/// ends the process (`s = s + s` forty times asks for a terabyte).
public enum MemoryBudget {
  /// The default: a quarter of the memory available at start (MemAvailable), at least 64 MiB.
  public static let defaultBytes: Int = {
    let minimum = 64 << 20
    guard let text = try? SafeFile.readText("/proc/meminfo", limit: 1 << 20),
      let line = text.split(separator: "\n").first(where: { $0.hasPrefix("MemAvailable:") }),
      let kb = Int(line.split(separator: " ").dropFirst().first ?? "")
    else { return 1 << 30 }
    return max(minimum, kb / 4 * 1024)
  }()

  /// Bytes as "N.N MiB".
  static func mib(_ bytes: Int) -> String {
    String(format: "%.1f MiB", Double(bytes) / 1_048_576)
  }
}

extension Interpreter {
  /// Throws when a value of `bytes` (what: "a string", "a list") would exceed `memoryLimit`.
  func charge(_ bytes: Int, _ what: String, at l: SourceLocation?) throws {
    guard bytes > memoryLimit || bytes < 0 else { return }
    throw ScriptError(
      .runtime,
      """
      \(what) of \(bytes < 0 ? "more than Int.max bytes" : MemoryBudget.mib(bytes)) would exceed \
      the session's memory budget of \(MemoryBudget.mib(memoryLimit)) (set memory_limit: MIB to \
      change it)
      """, at: l)
  }

  /// The bytes a list of `count` values takes (its items' own storage not counted).
  static func listBytes(_ count: Int) -> Int {
    count.multipliedReportingOverflow(by: MemoryLayout<Value>.stride).overflow
      ? -1 : count * MemoryLayout<Value>.stride
  }
}
