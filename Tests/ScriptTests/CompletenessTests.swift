import Testing

@testable import Script

/// The prompt's "is this input complete?" check comes from the parser (an error at the end of input
/// means more lines could complete it), not from matching message text.
@Suite struct CompletenessTests {
  @Test(arguments: [
    ("print 1", true), ("x = )", true), ("for i in 1..2 {", false), ("x = (1 +", false),
    ("proc f(a) {\n  return a", false),
    ("xs = [1, 2,", false), ("if x > 1 {\n} else {", false), ("y = {a: 1", false), ("\"abc", true),
    ("for i in 1..2 { print i }", true),
  ])
  func completeness(source: String, complete: Bool) {
    #expect(Interpreter().isComplete(source) == complete, "\(source.debugDescription)")
  }
}
