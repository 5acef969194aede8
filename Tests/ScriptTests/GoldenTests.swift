import Foundation
import Testing

@testable import Script

/// Golden tests, one file per language feature (Crafting Interpreters style): every `# expect:
/// TEXT` comment is one expected output line, in order; `# expect error: TEXT` means the run must
/// fail with an error whose message (file:line:column: error: …) contains TEXT.
@Suite struct GoldenTests {
  static let dir = Bundle.module.resourceURL!.appendingPathComponent("golden")

  static func files() -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter {
      $0.hasSuffix(".svfap")
    }.sorted()
  }

  @Test func everyFeatureHasAGoldenFile() {
    let names = Set(Self.files())
    for feature in [
      "numbers", "strings", "booleans", "lists", "records", "ranges", "variables", "hide_and_ans",
      "if", "for",
      "while", "procedures", "recursion", "source", "comments", "commands", "multiline",
      "error_scan", "error_parse", "error_unknown_name", "error_unknown_option", "error_type",
      "error_runtime_trace",
      "error_division", "error_index", "error_recursion_limit", "error_assert", "error_source_self",
    ] {
      #expect(names.contains(feature + ".svfap"), "no golden file for \(feature)")
    }
  }

  @Test(arguments: files())
  func golden(file: String) throws {
    let path = Self.dir.appendingPathComponent(file).path
    let text = try String(contentsOfFile: path, encoding: .utf8)
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
    interp.currentDirectory = Self.dir.path
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
