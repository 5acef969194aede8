import Foundation
import Testing

@testable import SVFAP
@testable import Tensor

/// The repository root (two folders above this file's folder).
let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
  .deletingLastPathComponent().deletingLastPathComponent()
/// The golden fixtures, copied into the repository (Tests/Fixtures; `scripts/refresh-fixtures`
/// updates them).
let fixturesDir = repoRoot.appendingPathComponent("Tests/Fixtures")

/// Every fixture file name.
func fixtureFiles() -> [String] {
  ((try? FileManager.default.contentsOfDirectory(atPath: fixturesDir.path)) ?? []).filter {
    $0.hasSuffix(".safetensors")
  }.sorted()
}

/// A fresh temporary folder.
func tempDir() throws -> URL {
  let u = FileManager.default.temporaryDirectory.appendingPathComponent(
    "svfap-test-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
  return u
}

/// Runs python3 with a script; returns stdout (throws with stderr on failure).
func python(_ script: String, _ args: [String] = []) throws -> String {
  let p = Process()
  p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
  p.arguments = ["python3", "-c", script] + args
  let out = Pipe(), err = Pipe()
  p.standardOutput = out
  p.standardError = err
  try p.run()
  let o = out.fileHandleForReading.readDataToEndOfFile(),
    e = err.fileHandleForReading.readDataToEndOfFile()
  p.waitUntilExit()
  guard p.terminationStatus == 0 else {
    throw SVFAPError.badFile(path: "python3", message: String(decoding: e, as: UTF8.self))
  }
  return String(decoding: o, as: UTF8.self)
}
