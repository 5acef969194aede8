import Testing

@testable import Script

/// The interpreter never crashes: random token soups and random characters give errors or results,
/// never a trap (a bounded, seeded run; `scripts/fuzz` runs libFuzzer on the same entry point).
@Suite struct RobustnessTests {
  static let pieces = [
    "x", "y", "=", "+", "-", "*", "/", "%", "^", "(", ")", "[", "]", "{", "}", ",", ":", ";", ".",
    "..", "\n",
    "if", "else", "for", "in", "while", "proc", "return", "break", "continue", "and", "or", "not",
    "true", "nil",
    "1", "0", "-1", "1e308", "2.5", "\"s{x}\"", "\"", "{", "print", "len", "range", "help", "f",
    "f(", "source", "#c\n",
    "xs[0]", "r.k", "append", "1..3", "==", "<", "+=", "\\\n", "\"{\"", "assert", "max", "str",
    "num",
  ]

  struct Rng {
    var s: UInt64
    mutating func next() -> Int {
      s = s &* 6364136223846793005 &+ 1442695040888963407
      return Int(s >> 33)
    }
  }

  @Test func randomTokenSoupsNeverCrash() {
    var rng = Rng(s: 12345)
    var errors = 0, oks = 0
    for _ in 0..<3000 {
      let n = 1 + rng.next() % 8
      let text = (0..<n).map { _ in Self.pieces[rng.next() % Self.pieces.count] }.joined(
        separator: rng.next() % 3 == 0 ? "" : " ")
      let interp = Interpreter()
      interp.output = { _ in }
      interp.maxSteps = 2000
      do {
        try interp.run(text, file: "fuzz")
        oks += 1
      } catch { errors += 1 }
    }
    #expect(errors + oks == 3000)
    #expect(oks > 20 && errors > 20)  // both paths exercised
  }

  @Test func randomCharactersNeverCrash() {
    var rng = Rng(s: 99)
    let alphabet = Array("abc xyz01=+-*/()[]{}\"\\:;,.#\n\t\u{0}é∑🙂")
    for _ in 0..<3000 {
      let text = String((0..<(rng.next() % 40)).map { _ in alphabet[rng.next() % alphabet.count] })
      let interp = Interpreter()
      interp.output = { _ in }
      interp.maxSteps = 2000
      _ = try? interp.run(text, file: "fuzz")
    }
  }

  @Test func deepNestingIsAnErrorNotAStackOverflow() {
    let interp = Interpreter()
    let deep = String(repeating: "(", count: 100) + "1" + String(repeating: ")", count: 100)
    #expect((try? interp.run(deep)) == .number(1))
    for text in [
      String(repeating: "(", count: 20000), String(repeating: "-", count: 20000) + "1",
      String(repeating: "[", count: 20000),
      String(repeating: "if x {", count: 5000), String(repeating: "not ", count: 20000) + "1",
      String(repeating: "{a: ", count: 20000),
    ] {
      #expect(throws: ScriptError.self) { try interp.run(text) }
    }
    // Interpolation nests a parser; it is bounded too.
    #expect(throws: ScriptError.self) {
      try interp.run("\"{" + String(repeating: "(", count: 20000) + "}\"")
    }
  }
}
