/// Reads a gnuplot command stream as gnuplot would, to prove that user text cannot steer it: the
/// figure tests and the figure fuzz target (`scripts/fuzz 60 figure`) run every stream through it.
public enum GnuplotAudit {
  /// The parts of a command line outside single-quoted literals (each literal left as one space),
  /// and the literals' bodies (`''` read as `'`); an unterminated literal is marked outside.
  public static func split(_ line: String) -> (outside: String, literals: [String]) {
    var outside = "", literals: [String] = [], current = "", inside = false
    var chars = Array(line.unicodeScalars)[...]
    while let c = chars.popFirst() {
      if inside {
        if c == "'" {
          if chars.first == "'" {
            chars.removeFirst()
            current.unicodeScalars.append("'")
          } else {
            inside = false
            literals.append(current)
            current = ""
          }
        } else {
          current.unicodeScalars.append(c)
        }
      } else if c == "'" {
        inside = true
        outside += " "
      } else {
        outside.unicodeScalars.append(c)
      }
    }
    if inside { outside += "<unterminated literal>" }
    return (outside, literals)
  }

  /// What is wrong with a stream: a line break inside a command, a line that starts with `!` (a
  /// shell command), `system`, a backquote or an `@` macro outside quotes, an unterminated literal,
  /// a control character inside a literal. Empty for a safe stream.
  public static func problems(_ chunks: [GnuplotChunk]) -> [String] {
    var found: [String] = []
    for chunk in chunks {
      guard case .command(let text) = chunk else { continue }
      let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
      if lines.count > 1 { found.append("a line break inside a command: \(text.debugDescription)") }
      for line in lines {
        let (outside, literals) = split(String(line))
        if outside.drop(while: { $0 == " " || $0 == "\t" }).hasPrefix("!") {
          found.append("a shell line: \(line.debugDescription)")
        }
        for bad in ["system", "`", "@", "<unterminated literal>"] where outside.contains(bad) {
          found.append("\(bad) outside quotes: \(line.debugDescription)")
        }
        for l in literals where l.unicodeScalars.contains(where: GnuplotText.isControl) {
          found.append("a control character in a literal: \(l.debugDescription)")
        }
      }
    }
    return found
  }

  /// A figure with `text` in every text slot and one panel of each kind (the audit's subject).
  public static func figure(_ text: String) -> Figure {
    Figure(
      title: text,
      panels: [
        .image(rgb: [UInt8](repeating: 0, count: 12), width: 2, height: 2, title: text),
        .curves(
          series: [(name: text, x: [1, 2], y: [3, 4])], xLabel: text, yLabel: text, logY: false,
          title: text),
        .matrix(
          values: [[1, 0], [0, 1]], rowLabels: [text, text], columnLabels: [text, "b"], title: text),
        .scatter(x: [1, 1], y: [1, 1], xLabel: text, yLabel: text, title: text),
      ], columns: 2
    ).with(Figure.ColourScale(low: 0, high: 1, label: text))
  }
}
