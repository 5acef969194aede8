import Foundation
import Testing

@testable import Script

/// Every script the project ships (recipes in scripts/, examples/, notebook sources) parses: a
/// recipe with a syntax error would otherwise be found only after it has loaded its data, minutes
/// into a pretraining run.
@Suite struct ShippedScriptsTests {
  /// The repository root (this file is Tests/ScriptTests/ShippedScriptsTests.swift).
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

  /// The .svfap files under scripts/, examples/ and notebooks/, relative to the root.
  static func shippedScripts() -> [String] {
    ["scripts", "examples", "notebooks"].flatMap { folder -> [String] in
      let base = root.appendingPathComponent(folder)
      guard let walker = FileManager.default.enumerator(atPath: base.path) else { return [] }
      return walker.compactMap { $0 as? String }.filter { $0.hasSuffix(".svfap") }.map {
        "\(folder)/\($0)"
      }
    }.sorted()
  }

  @Test func theProjectShipsScripts() {
    // The recipes, examples and notebooks all exist (a wrong root would make the test below vacuous).
    let names = Self.shippedScripts()
    #expect(names.contains("scripts/pretrain-tiny-aligned.svfap"), "\(names)")
    #expect(names.count >= 10, "\(names)")
  }

  @Test(arguments: shippedScripts())
  func aShippedScriptParses(path: String) throws {
    let source = try String(contentsOf: Self.root.appendingPathComponent(path), encoding: .utf8)
    #expect(throws: Never.self, "\(path)") { _ = try Parser.parse(source, file: path) }
  }

  @Test func aSyntaxErrorIsCaught() {
    // The check above can fail: a recipe line with an unclosed list does not parse.
    #expect(throws: (any Error).self) {
      _ = try Parser.parse("photos = [[\"a.jpg\", 1]\nprint photos\n", file: "recipe.svfap")
    }
  }
}
