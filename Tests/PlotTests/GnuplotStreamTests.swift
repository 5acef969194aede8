import Foundation
import Testing

@testable import Plot

/// No user text can steer gnuplot: for hostile strings in every text slot of a figure (titles,
/// labels, series names, class names, the scale's label), every command line of the stream holds
/// user text only inside single-quoted literals with no control characters, and outside them no
/// line starts with `!`, nothing calls `system`, and no backquote or `@` macro appears.
@Suite struct GnuplotStreamTests {
  /// Strings an attacker or a downloaded dataset could supply.
  static let hostile: [String] = [
    "a\n!touch /tmp/svfap-pwned\n", "x'\n!id\n'", "b\r!id", "`touch /tmp/svfap-pwned`",
    "'; system('touch /tmp/svfap-pwned'); '", "@macro", "\u{2028}!id", "\u{85}!id",
    "\u{7f}\u{1b}[31m",
    "%s%n%%", "''''", "\\'\n!id", "name\u{0}!id", "tab\there", "é\u{301}ü ✓ 日本",
  ]

  /// Random strings over an alphabet heavy in the characters that matter.
  static func fuzzed(_ count: Int, seed: UInt64) -> [String] {
    var rng = SystemRandomNumberGenerator.Seeded(seed)
    let alphabet: [Unicode.Scalar] =
      Array("!'\"`@\\%;$()system \n\r\t".unicodeScalars) + [
        "\u{0}", "\u{7f}", "\u{85}", "\u{2028}", "\u{2029}", "é", "a", "b",
      ]
    return (0..<count).map { _ in
      let n = Int(rng.next() % 24)
      return String(
        String.UnicodeScalarView(
          (0..<n).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }))
    }
  }

  /// The problems of the stream that draws a figure with `s` in every text slot.
  static func problems(_ s: String) -> [String] {
    GnuplotAudit.problems(
      Gnuplot().commands(GnuplotAudit.figure(s), output: "/tmp/out.png", terminal: .png))
  }

  @Test(arguments: hostile)
  func hostileTextStaysInsideQuotes(_ s: String) {
    let p = Self.problems(s)
    #expect(p.isEmpty, "\(s.debugDescription): \(p.prefix(3))")
  }

  @Test func fuzzedTextStaysInsideQuotes() {
    for s in Self.fuzzed(2000, seed: 7) {
      let p = Self.problems(s)
      #expect(p.isEmpty, "\(s.debugDescription): \(p.prefix(3))")
      if !p.isEmpty { return }
    }
  }

  @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/gnuplot")))
  func realGnuplotRunsNoShellCommand() throws {
    // End to end through the real gnuplot: labels that would have run `touch` through a `!` line.
    let marker = FileManager.default.temporaryDirectory.appendingPathComponent(
      "svfap-pwned-\(UUID().uuidString)"
    ).path
    let hostile = "a\n!touch \(marker)\n"
    let figure = Figure(
      title: hostile,
      panels: [
        .matrix(
          values: [[1, 0], [0, 1]], rowLabels: [hostile, "b'\n!touch \(marker)"],
          columnLabels: [hostile, "x"], title: hostile)
      ], columns: 1)
    let out = FileManager.default.temporaryDirectory.appendingPathComponent(
      "svfap-injection-\(UUID().uuidString).png"
    ).path
    defer { unlink(out) }
    try Gnuplot().render(figure, to: out)
    #expect(FileManager.default.fileExists(atPath: out), "the figure was drawn")
    #expect(!FileManager.default.fileExists(atPath: marker), "gnuplot ran a shell command")
    unlink(marker)
  }

  @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/gnuplot")))
  func aPDFFigureIsAPDF() throws {
    let out = FileManager.default.temporaryDirectory.appendingPathComponent(
      "svfap-figure-\(UUID().uuidString).pdf"
    ).path
    defer { unlink(out) }
    try Gnuplot().render(GnuplotAudit.figure("a figure"), to: out, terminal: .pdf)
    let head = try Data(contentsOf: URL(fileURLWithPath: out)).prefix(5)
    #expect(head == Data("%PDF-".utf8), "not a PDF: \(Array(head))")
  }

  @Test func theCheckerSeesAnInjection() {
    // The checker itself can fail: the old escaping (quotes doubled, newlines kept) is caught.
    let old = "set label '" + "a\n!touch X\n".replacingOccurrences(of: "'", with: "''") + "' at 0,0"
    let found = GnuplotAudit.problems([.command(old)])
    #expect(found.contains { $0.hasPrefix("a shell line") }, "\(found)")
    #expect(!GnuplotAudit.problems([.command("set label 'x' at 0,0; print `id`")]).isEmpty)
    #expect(!GnuplotAudit.problems([.command("x = system('id')")]).isEmpty)
    #expect(GnuplotAudit.problems([.command("set label 'system(`id`) @m !x' at 0,0")]).isEmpty)
    #expect(GnuplotText.quoted("a\n!b'c") == "'a?!b''c'")
    #expect(GnuplotText.quotedFormat("50%") == "'50%%'")
  }
}

extension SystemRandomNumberGenerator {
  /// A small seeded generator (SplitMix64) for reproducible fuzzing in tests.
  struct Seeded: RandomNumberGenerator {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
      state &+= 0x9E37_79B9_7F4A_7C15
      var z = state
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
  }
}
