import Foundation
import Testing

@testable import Script

/// Completion by the cursor's context (the REPL's and the kernel's one function): file paths inside
/// a string, a value's fields after its dot, option names in option position, names elsewhere.
@Suite struct CompletionTests {
  /// An interpreter working in a fresh folder holding `media/` and `single_face.mp4`.
  static func interpreter() throws -> Interpreter {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
      "svfap-complete-\(UUID().uuidString)")
    try FileManager.default.createDirectory(
      at: dir.appendingPathComponent("media"), withIntermediateDirectories: true)
    try Data().write(to: dir.appendingPathComponent("single_face.mp4"))
    try Data().write(to: dir.appendingPathComponent(".hidden"))
    let interp = Interpreter()
    interp.currentDirectory = dir.path
    return interp
  }

  @Test func pathsInsideAString() throws {
    let interp = try Self.interpreter()
    let code = "x = print \"si"
    let r = interp.completion(in: code, at: code.count)
    #expect(r.matches == ["single_face.mp4"] && r.start == 11 && r.end == code.count, "\(r)")
    #expect(interp.completion(in: "print \"me", at: 9).matches == ["media/"])
    #expect(interp.completion(in: "print \"", at: 7).matches == ["media/", "single_face.mp4"])
    #expect(interp.completion(in: "print \".h", at: 9).matches == [".hidden"])
    // A closed string is not a path: names again.
    #expect(interp.completion(in: "print \"a\" pri", at: 13).matches.contains("print"))
  }

  @Test func fieldsAfterADot() throws {
    let interp = try Self.interpreter()
    try interp.run("r = {alpha: 1, beta: 2, also: 3}")
    let code = "print r.al"
    let r = interp.completion(in: code, at: code.count)
    #expect(r.matches == ["alpha", "also"] && r.start == 8, "\(r)")
    #expect(interp.completion(in: "print r.", at: 8).matches == ["alpha", "also", "beta"])
    // Not every global name after a dot.
    #expect(interp.completion(in: "print nothing.", at: 14).matches.isEmpty)
  }

  @Test func optionsInOptionPositionNamesElsewhere() throws {
    let interp = try Self.interpreter()
    #expect(interp.completion(in: "range(0, 1, ste", at: 15).matches == ["step:"])
    #expect(interp.completion(in: "pri", at: 3).matches.contains("print"))
  }
}
