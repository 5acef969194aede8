import Testing

@testable import Script

/// `Interpreter.check`: what `svfap run` finds before running — each kind of problem, located, and
/// no problem where the script itself defines the name.
@Suite struct StaticCheckTests {
  func problems(_ source: String) -> [String] {
    Interpreter().check(source, file: "s.svfap").map {
      "\($0.location?.description ?? ""): \($0.message)"
    }
  }

  @Test func anUnknownOptionIsFoundWhereItIs() {
    let found = problems("x = 1\nif x > 0 {\n  print round(x, digits: 2)\n}\n")
    #expect(found.count == 1, "\(found)")
    #expect(
      found.first?.hasPrefix("s.svfap:3:18: 'round' has no option 'digits'") == true, "\(found)")
  }

  @Test func anOptionGivenTwiceAndTooManyPositionalsAreFound() {
    #expect(problems("print len([1], [2])").first?.contains("'len' takes 1 positional") == true)
    let twice = problems("for i in range(1, 9, step: 2, step: 3) {\n  print i\n}")
    #expect(twice == ["s.svfap:1:31: 'range': 'step' given twice"], "\(twice)")
  }

  @Test func anUnknownCommandIsFoundInsideAProcedureAndAString() {
    let found = problems("proc f(a) {\n  return lenn(a)\n}\nprint \"{sqrtt(4)}\"\n")
    #expect(found.count == 2, "\(found)")
    #expect(found.first?.hasPrefix("s.svfap:2:10: unknown command 'lenn'") == true, "\(found)")
  }

  @Test func namesTheScriptDefinesAreItsOwn() {
    // A procedure, a variable holding one, loop variables and parameters are not commands.
    let source = """
      proc twice(v, k: 2) {
        return v * k
      }
      g = twice
      for h in [1] {
        print twice(h, k: 3) + g(h)
      }
      """
    #expect(problems(source).isEmpty, "\(problems(source))")
  }

  @Test func aSourcedFileMayDefineWhatIsCalled() {
    // Unknown names are left to run time after a `source`; options of known commands are still checked.
    #expect(problems("source \"lib.svfap\"\nprint helper(1)").isEmpty)
    #expect(problems("source \"lib.svfap\"\nprint round(1, digits: 2)").count == 1)
  }

  @Test func aSyntaxErrorIsTheOnlyProblem() {
    let found = problems("photos = [[\"a.jpg\", 1]\nprint lenn(photos)\n")
    #expect(found.count == 1, "\(found)")
  }
}
