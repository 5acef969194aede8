/// The one way user text enters gnuplot's command stream: as a single-quoted gnuplot string.
///
/// Inside single quotes gnuplot takes every character literally but `'` (written `''`): no
/// backslash escapes, no backquote command substitution, no `@` macros. What could still end the
/// command is a line break, so every control character (C0, DEL, C1, and the Unicode line and
/// paragraph separators) becomes a visible `?`. Nothing user-made is ever written outside quotes.
public enum GnuplotText {
  /// `s` as a single-quoted gnuplot string literal, safe anywhere a string is expected.
  public static func quoted(_ s: String) -> String {
    "'" + literalBody(s) + "'"
  }

  /// `s` as a single-quoted gnuplot format string (tic labels): also `%` doubled.
  public static func quotedFormat(_ s: String) -> String {
    "'" + literalBody(s).replacingOccurrences(of: "%", with: "%%") + "'"
  }

  /// The body of a single-quoted literal: control characters as `?`, `'` doubled.
  static func literalBody(_ s: String) -> String {
    var out = String.UnicodeScalarView()
    for c in s.unicodeScalars {
      if isControl(c) {
        out.append("?")
      } else if c == "'" {
        out.append("'")
        out.append("'")
      } else {
        out.append(c)
      }
    }
    return String(out)
  }

  /// Whether a scalar could break a line or the terminal: C0, DEL, C1, U+2028, U+2029.
  public static func isControl(_ c: Unicode.Scalar) -> Bool {
    c.value < 0x20 || (0x7F...0x9F).contains(c.value) || c.value == 0x2028 || c.value == 0x2029
  }
}
