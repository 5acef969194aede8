import Foundation
import Testing

@testable import Media
@testable import Script
@testable import Workbench

/// Hostile inputs against one live session (Tests/WorkbenchTests/hostile/*.svfap): every line that
/// ends in `# expect error: TEXT` must fail with a located error containing TEXT, every other line
/// must run, and after the whole file the session still answers. A trap anywhere would end the test
/// process, so the suite passing is itself the proof that none of these inputs can crash a session.
@Suite struct HostileInputTests {
  static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("hostile")

  static func files() -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter {
      $0.hasSuffix(".svfap")
    }.sorted()
  }

  @Test func thereAreAtLeastSixtyHostileInputs() throws {
    let lines = try Self.files().flatMap {
      try String(contentsOf: Self.dir.appendingPathComponent($0), encoding: .utf8).split(
        separator: "\n")
    }
    #expect(lines.filter { $0.contains("# expect error: ") }.count >= 60)
  }

  @Test(arguments: files())
  func hostileInputsGetLocatedErrors(file: String) throws {
    let text = try String(contentsOf: Self.dir.appendingPathComponent(file), encoding: .utf8)
    let work = FileManager.default.temporaryDirectory.appendingPathComponent(
      "svfap-hostile-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: work) }
    // Special files for special_files.svfap: a FIFO with no writer, a frame folder whose member is a
    // FIFO, a manifest row that names a FIFO (each would block a plain open forever).
    mkfifo(work.appendingPathComponent("fifo").path, 0o600)
    mkfifo(work.appendingPathComponent("fifo.jsonl").path, 0o600)
    let frames = work.appendingPathComponent("frames")
    try FileManager.default.createDirectory(at: frames, withIntermediateDirectories: true)
    mkfifo(frames.appendingPathComponent("000001.png").path, 0o600)
    try "path,label\nfifo,0\n".write(
      to: work.appendingPathComponent("fifo-rows.csv"), atomically: true, encoding: .utf8)
    try "path,label\nclip.mp4\u{0}.evil,0\n".write(
      to: work.appendingPathComponent("nul-rows.csv"), atomically: true, encoding: .utf8)
    let session = Session()
    session.interpreter.output = { _ in }
    session.interpreter.currentDirectory = work.path
    for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      let line = String(raw)
      if line.trimmingCharacters(in: .whitespaces).hasPrefix("#")
        || line.trimmingCharacters(in: .whitespaces).isEmpty
      {
        continue
      }
      let code: String, expected: String?
      if let r = line.range(of: "# expect error: ") {
        (code, expected) = (String(line[..<r.lowerBound]), String(line[r.upperBound...]))
      } else {
        (code, expected) = (line, nil)
      }
      do {
        try session.interpreter.run(code, file: "\(file)")
        if let expected {
          Issue.record("\(file):\(n + 1): ran without the expected error '\(expected)'")
        }
      } catch let e as ScriptError {
        guard let expected else {
          Issue.record("\(file):\(n + 1): unexpected error \(e)")
          continue
        }
        #expect(
          e.description.contains(expected),
          "\(file):\(n + 1): error '\(e.description)' does not contain '\(expected)'")
        #expect(
          e.description.contains("\(file):1:"),
          "\(file):\(n + 1): error '\(e.description)' names no location")
      }
    }
    #expect(
      try session.interpreter.run("1 + 1") == .number(2), "\(file): the session no longer answers")
  }

  @Test func generatedSessionProgramsNeverCrash() throws {
    // The session fuzzer's generator (scripts/fuzz-session runs it under libFuzzer for hours): 300
    // seeded programs of declared commands with hostile arguments, in this process.
    let work = FileManager.default.temporaryDirectory.appendingPathComponent(
      "svfap-genfuzz-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: work) }
    let w = try VideoWriter(
      path: work.appendingPathComponent("clip.mp4").path, width: 32, height: 32, fps: 25)
    for k in 0..<6 {
      try w.write(rgb: (0..<(32 * 32 * 3)).map { UInt8(truncatingIfNeeded: $0 &* (k + 3)) })
    }
    try w.finish()
    try "path,label\nclip.mp4,0\nclip.mp4,1\n".write(
      to: work.appendingPathComponent("labels.csv"), atomically: true, encoding: .utf8)
    mkfifo(work.appendingPathComponent("fifo").path, 0o600)
    let commands = Array(Session().interpreter.commands.values)
    var state: UInt64 = 42
    var distinct = Set<String>()
    for _ in 0..<300 {
      let bytes = (0..<48).map { _ -> UInt8 in
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return UInt8(truncatingIfNeeded: state >> 56)
      }
      let program = SessionFuzzing.program(from: bytes, commands: commands)
      for line in program.split(separator: "\n") where line.hasPrefix("v") {
        distinct.insert(String(line.split(separator: "(")[0].split(separator: " ").last ?? ""))
      }
      SessionFuzzing.run(program, in: work.path)
    }
    // No hostile string ran a shell command (the generator's strings touch this file).
    #expect(!FileManager.default.fileExists(atPath: "/tmp/svfap-fuzz-pwned"))
    // The generator reaches most of the language's commands.
    #expect(
      distinct.count >= commands.count / 2, "only \(distinct.count) distinct commands generated")
  }

  @Test func aSessionIsFreedWithEverythingItHeld() throws {
    // Commands hold their session unowned: a session (and its models) goes when its owner lets go,
    // which the session fuzzer, the notebook runner and the kernel rely on.
    weak var gone: Session?
    weak var model: ModelHandle?
    do {
      let s = Session()
      s.interpreter.output = { _ in }
      try s.interpreter.run(
        """
        m = model \"svfap-nano\" seed: 1\nr = train(m, noise_clip(frames: 4, size: 32, seed: \
        2), steps: 2)
        """
      )
      if case .handle(let h as ModelHandle)? = s.interpreter.globals["m"] { model = h }
      gone = s
    }
    #expect(gone == nil && model == nil)
  }
}
