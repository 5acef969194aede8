import Foundation
import Glibc

/// Figures drawn inside the terminal as well as written to their file: the kitty and iTerm2
/// protocols (named by the terminal's environment) or sixel (the terminal says so when asked its
/// device attributes). A terminal that does not answer within 100 ms gets no images.
public enum TerminalImages {
  /// A way to draw a picture in a terminal.
  public enum Kind: String, Sendable, CaseIterable {
    /// DEC sixel graphics (xterm -ti vt340, mlterm, foot, WezTerm, …), drawn by gnuplot.
    case sixel
    /// The kitty graphics protocol (PNG data).
    case kitty
    /// iTerm2's inline images (PNG data; also WezTerm).
    case iterm
  }

  /// The session setting: draw when the terminal can (`auto`), always, or never.
  public enum Setting: String, Sendable, CaseIterable {
    /// Draw on an interactive terminal that says it can.
    case auto
    /// Draw whenever a figure is shown (sixel unless the environment names another kind).
    case on
    /// Only write files.
    case off
  }

  /// How long a terminal may take to answer the capability probe.
  public static let probeTimeout = 0.1

  /// The kind the environment names (kitty and iTerm2 set variables of their own), if any.
  public static func named(by env: [String: String]) -> Kind? {
    if env["KITTY_WINDOW_ID"] != nil || env["TERM"] == "xterm-kitty" { return .kitty }
    if env["TERM_PROGRAM"] == "iTerm.app" || env["TERM_PROGRAM"] == "WezTerm" { return .iterm }
    return nil
  }

  /// Whether a primary device attributes answer (`ESC [ ? 62 ; 4 ; … c`) lists sixel graphics
  /// (attribute 4).
  public static func answerListsSixel(_ answer: String) -> Bool {
    guard let start = answer.range(of: "\u{1b}[?"), let end = answer.range(of: "c") else {
      return false
    }
    guard start.upperBound <= end.lowerBound else { return false }
    return answer[start.upperBound..<end.lowerBound].split(separator: ";").contains("4")
  }

  /// Asks the terminal on `output` for its device attributes and reads the answer from `input`
  /// for at most `timeout` seconds: true when it lists sixel graphics, false when it does not
  /// or stays silent. A terminal's echo and line buffering are switched off while waiting.
  public static func probeSixel(input: Int32, output: Int32, timeout: Double = probeTimeout)
    -> Bool
  {
    var saved = termios()
    let isTerminal = tcgetattr(input, &saved) == 0
    if isTerminal {
      var raw = saved
      raw.c_lflag &= ~tcflag_t(ICANON | ECHO)
      withUnsafeMutableBytes(of: &raw.c_cc) { cc in
        cc[Int(VMIN)] = 0
        cc[Int(VTIME)] = 0
      }
      tcsetattr(input, TCSANOW, &raw)
    }
    defer { if isTerminal { tcsetattr(input, TCSANOW, &saved) } }
    let query: [UInt8] = [0x1b, 0x5b, 0x63]  // ESC [ c
    guard query.withUnsafeBytes({ write(output, $0.baseAddress, 3) }) == 3 else { return false }
    let deadline = ProcessInfo.processInfo.systemUptime + timeout
    var answer = [UInt8]()
    while answer.count < 256 {
      let left = deadline - ProcessInfo.processInfo.systemUptime
      if left <= 0 { break }
      var p = pollfd(fd: input, events: Int16(POLLIN), revents: 0)
      let ready = poll(&p, 1, Int32(max(left * 1000, 1)))
      if ready < 0 && errno == EINTR { continue }
      if ready <= 0 { break }
      var byte: UInt8 = 0
      guard read(input, &byte, 1) == 1 else { break }
      answer.append(byte)
      if byte == UInt8(ascii: "c") { break }
    }
    return answerListsSixel(String(decoding: answer, as: UTF8.self))
  }

  /// Sixel when the controlling terminal (/dev/tty) lists it within the probe's timeout; nil
  /// without a terminal or an answer.
  public static func probeControllingTerminal() -> Kind? {
    let tty = open("/dev/tty", O_RDWR | O_NOCTTY)
    guard tty >= 0 else { return nil }
    defer { close(tty) }
    return probeSixel(input: tty, output: tty) ? .sixel : nil
  }

  /// The bytes that draw PNG data inline in a kitty or iTerm2 terminal.
  public static func escape(png: Data, as kind: Kind) -> Data {
    let b64 = png.base64EncodedString()
    switch kind {
    case .iterm:
      return Data("\u{1b}]1337;File=inline=1;size=\(png.count):\(b64)\u{07}\n".utf8)
    case .kitty:
      // In chunks of 4096 base64 characters: m=1 on all but the last.
      var out = Data(), i = b64.startIndex, first = true
      while i < b64.endIndex {
        let j = b64.index(i, offsetBy: 4096, limitedBy: b64.endIndex) ?? b64.endIndex
        let more = j < b64.endIndex ? 1 : 0
        let head = first ? "a=T,f=100,m=\(more)" : "m=\(more)"
        out += Data("\u{1b}_G\(head);\(b64[i..<j])\u{1b}\\".utf8)
        (i, first) = (j, false)
      }
      return out + Data("\n".utf8)
    case .sixel:
      return png  // sixel data comes from gnuplot's sixelgd terminal, not from a PNG
    }
  }
}
