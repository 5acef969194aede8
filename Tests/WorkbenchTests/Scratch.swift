import Foundation

@testable import Workbench

/// The repository's example videos (`scripts/fetch-examples` places them).
let exampleMedia = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
  .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("examples/media")

/// The path of example video `name`.
func exampleVideo(_ name: String) -> String { exampleMedia.appendingPathComponent(name).path }

/// A fresh, empty temporary folder named after `purpose` (the caller removes it).
func scratchFolder(_ purpose: String) throws -> String {
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
    "svfap-\(purpose)-\(UUID().uuidString)"
  ).path
  try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
  return dir
}

/// A session that works in `dir` and prints nothing.
func quietSession(in dir: String) -> Session {
  let session = Session()
  session.interpreter.currentDirectory = dir
  session.interpreter.output = { _ in }
  return session
}
