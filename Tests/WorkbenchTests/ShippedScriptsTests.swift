import Foundation
import Script
import Testing

@testable import Workbench

/// Every script the project ships (recipes in scripts/, examples/, notebook sources, the scripts
/// the distributed tests run) passes the
/// check `svfap run` makes before running (syntax, and every command call against the workbench's
/// commands): a recipe with a typo would otherwise stop only where the typo is, maybe after an
/// hour of training.
@Suite struct ShippedScriptsTests {
  /// The repository root (this file is Tests/WorkbenchTests/ShippedScriptsTests.swift).
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

  /// The .svfap files under scripts/, examples/ and notebooks/ (and the scripts the distributed
  /// tests give `svfap run`), relative to the root.
  static func shippedScripts() -> [String] {
    ["scripts", "examples", "notebooks", "Tests/WorkbenchTests/distributed"].flatMap {
      folder -> [String] in
      let base = root.appendingPathComponent(folder)
      guard let walker = FileManager.default.enumerator(atPath: base.path) else { return [] }
      return walker.compactMap { $0 as? String }.filter { $0.hasSuffix(".svfap") }.map {
        "\(folder)/\($0)"
      }
    }.sorted()
  }

  @Test func theProjectShipsScripts() {
    // The recipes, examples and notebooks are found (a wrong root would make the test below vacuous).
    let names = Self.shippedScripts()
    #expect(names.contains("scripts/pretrain-tiny-aligned.svfap"), "\(names)")
    #expect(names.count >= 10, "\(names)")
  }

  @Test(arguments: shippedScripts())
  func aShippedScriptPassesTheCheck(path: String) throws {
    let source = try String(contentsOf: Self.root.appendingPathComponent(path), encoding: .utf8)
    let problems = Session().interpreter.check(source, file: path)
    #expect(problems.isEmpty, "\(problems.map(\.description).joined(separator: "\n"))")
  }

  @Test func aTypoInAWorkbenchOptionIsFound() {
    // The check above can fail: a recipe's misspelt option of a workbench command is a problem.
    let problems = Session().interpreter.check(
      "c = load(\"a.mp4\", crop: \"face\", aling: true)\n", file: "recipe.svfap")
    #expect(problems.map(\.location?.description) == ["recipe.svfap:1:33"])
    #expect(problems.first?.message.contains("did you mean 'align'") == true)
  }
}
