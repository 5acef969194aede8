import Foundation
import Testing

@testable import Script

/// Golden tests, one file per language feature (Crafting Interpreters style): every `# expect:
/// TEXT` comment is one expected output line, in order; `# expect error: TEXT` means the run must
/// fail with an error whose message (file:line:column: error: …) contains TEXT. `⟨N×TEXT⟩` in a file
/// stands for TEXT written N times (the limit tests' 10^5-level inputs, kept readable).
@Suite struct GoldenTests {
  static let dir = Bundle.module.resourceURL!.appendingPathComponent("golden")

  /// Golden files by path relative to golden/ (`values/numbers.svfap`), in feature folders plus
  /// `limit/` (every bound of the language) and `regression/` (bugs found, kept fixed); `lib/`
  /// folders hold files that others source.
  static func files() -> [String] {
    let all = FileManager.default.enumerator(atPath: dir.path)?.allObjects as? [String] ?? []
    return all.filter { $0.hasSuffix(".svfap") && !$0.contains("lib/") }.sorted()
  }

  @Test func everyFeatureHasAGoldenFile() {
    let names = Set(Self.files())
    let features = [
      "values/numbers", "values/strings", "values/booleans", "values/lists", "values/records",
      "values/ranges", "variables/variables", "variables/hide_and_ans", "control/if", "control/for",
      "control/while", "procedures/procedures", "procedures/recursion", "files/source",
      "files/comments", "files/commands", "files/multiline", "errors/scan", "errors/parse",
      "errors/unknown_name", "errors/unknown_option", "errors/type", "errors/runtime_trace",
      "errors/division", "errors/index", "errors/assert", "limit/recursion", "limit/source_self",
      "limit/expression_nesting", "limit/range_to_list",
    ]
    for feature in features {
      #expect(names.contains(feature + ".svfap"), "no golden file for \(feature)")
    }
    #expect(names.filter { $0.hasPrefix("limit/") }.count >= 5)
    #expect(names.filter { $0.hasPrefix("regression/") }.count >= 5)
  }

  /// The file with every `⟨N×TEXT⟩` replaced by TEXT repeated N times.
  static func expand(_ text: String) -> String {
    var out = "", rest = Substring(text)
    while let open = rest.firstIndex(of: "⟨"), let close = rest[open...].firstIndex(of: "⟩"),
      let times = rest[open..<close].firstIndex(of: "×"),
      let n = Int(rest[rest.index(after: open)..<times])
    {
      out += rest[..<open]
      out += String(repeating: String(rest[rest.index(after: times)..<close]), count: n)
      rest = rest[rest.index(after: close)...]
    }
    return out + rest
  }

  @Test func expansionWritesRepeats() {
    #expect(Self.expand("a⟨3×(⟩1⟨2×)⟩") == "a(((1))")
  }

  @Test(arguments: files())
  func golden(file: String) throws {
    let path = Self.dir.appendingPathComponent(file).path
    let text = Self.expand(try String(contentsOfFile: path, encoding: .utf8))
    var expected: [String] = []
    var expectedError: String? = nil
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
      if let r = line.range(of: "# expect: ") { expected.append(String(line[r.upperBound...])) }
      if let r = line.range(of: "# expect error: ") {
        expectedError = String(line[r.upperBound...])
      }
    }
    let interp = Interpreter()
    var out: [String] = []
    interp.output = {
      out.append(
        contentsOf: $0.split(separator: "\n", omittingEmptySubsequences: false).map(String.init))
    }
    interp.currentDirectory = (path as NSString).deletingLastPathComponent
    do {
      try interp.run(text, file: file)
      #expect(
        expectedError == nil, "\(file): expected an error containing '\(expectedError ?? "")'")
    } catch let e as ScriptError {
      guard let want = expectedError else {
        Issue.record("\(file): unexpected error \(e)")
        return
      }
      #expect(
        e.description.contains(want), "\(file): error \(e.description) does not contain '\(want)'")
    }
    #expect(out == expected, "\(file): output differs")
  }
}
