import Foundation
import Testing

/// The package's target graph as Package.swift declares it (`swift package dump-package`), checked
/// against the sources and docs/ARCHITECTURE.md: acyclic, every target imports exactly the package
/// targets it declares, and the architecture document names every target.
@Suite struct TargetGraphTests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent()
    .deletingLastPathComponent()

  /// Local targets and their local dependencies, by name.
  static func declaredGraph() throws -> [String: Set<String>] {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    // Its own scratch folder: `swift test` holds the lock of .build while the tests run.
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent(
      "svfap-dump-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: scratch) }
    p.arguments = ["swift", "package", "--scratch-path", scratch.path, "dump-package"]
    p.currentDirectoryURL = root
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    let json = try JSONSerialization.jsonObject(with: data) as? [String: Any]
    let targets = json?["targets"] as? [[String: Any]] ?? []
    let names = Set(targets.compactMap { $0["name"] as? String })
    var graph: [String: Set<String>] = [:]
    for t in targets {
      guard let name = t["name"] as? String else { continue }
      let deps = (t["dependencies"] as? [[String: Any]] ?? []).compactMap { d -> String? in
        (d["byName"] as? [Any])?.first as? String ?? (d["target"] as? [Any])?.first as? String
      }
      graph[name] = Set(deps).intersection(names)
    }
    return graph
  }

  /// The package targets a source folder imports.
  static func imports(of folder: URL, among targets: Set<String>) -> Set<String> {
    let files =
      (FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil)?.allObjects
        as? [URL]) ?? []
    var found: Set<String> = []
    for f in files where f.pathExtension == "swift" {
      let text = (try? String(contentsOf: f, encoding: .utf8)) ?? ""
      for line in text.split(separator: "\n") {
        let words = line.split(separator: " ")
        guard let i = words.firstIndex(of: "import"), i + 1 < words.count,
          words[..<i].allSatisfy({ $0.hasPrefix("@") })
        else { continue }
        let module = String(words[i + 1])
        if targets.contains(module) { found.insert(module) }
      }
    }
    return found
  }

  @Test func graphIsAcyclic() throws {
    let graph = try Self.declaredGraph()
    #expect(graph.count >= 10, "dump-package gave \(graph.count) targets")
    var state: [String: Int] = [:]  // 1 visiting, 2 done
    func visit(_ n: String, _ path: [String]) {
      if state[n] == 2 { return }
      if state[n] == 1 {
        Issue.record("cycle: \((path + [n]).joined(separator: " -> "))")
        return
      }
      state[n] = 1
      for d in (graph[n] ?? []).sorted() { visit(d, path + [n]) }
      state[n] = 2
    }
    for n in graph.keys.sorted() { visit(n, []) }
  }

  @Test func everyTargetImportsExactlyWhatItDeclares() throws {
    let graph = try Self.declaredGraph()
    let names = Set(graph.keys)
    for (name, deps) in graph.sorted(by: { $0.key < $1.key }) {
      let folder = Self.root.appendingPathComponent(name.hasSuffix("Tests") ? "Tests" : "Sources")
        .appendingPathComponent(name)
      guard FileManager.default.fileExists(atPath: folder.path) else { continue }
      let used = Self.imports(of: folder, among: names)
      if name.hasSuffix("Tests") {
        // Test targets may declare more (resources, transitive helpers) but must declare what they
        // import.
        #expect(
          used.isSubset(of: deps),
          "\(name) imports \(used.subtracting(deps).sorted()) without declaring them")
      } else {
        #expect(used == deps, "\(name): imports \(used.sorted()), declares \(deps.sorted())")
      }
    }
  }

  @Test func architectureDocumentNamesEveryLibraryTarget() throws {
    let doc = try String(
      contentsOf: Self.root.appendingPathComponent("docs/ARCHITECTURE.md"), encoding: .utf8)
    for name in try Self.declaredGraph().keys.sorted() where !name.hasSuffix("Tests") {
      #expect(doc.contains(name), "docs/ARCHITECTURE.md does not mention the target \(name)")
    }
  }
}
