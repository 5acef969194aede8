import Foundation
import Script

/// Programs for fuzzing a whole session, generated from the command declarations themselves: every
/// command, each of its parameters with values of every kind (negative, zero, huge, infinite, NaN,
/// the wrong type, empty lists, missing files, handles of the wrong kind), on a nano model and a
/// 4-frame clip so that a run costs milliseconds. The choices come from a byte string (libFuzzer's
/// input, or a seeded generator's), so a crash replays from its bytes.
public enum SessionFuzzing {
  /// Commands left out: timings of full-size models and settings that change the process.
  static let excluded: Set<String> = ["bench", "set", "check_fixture", "help"]

  /// Lines every program starts with: the handles the generated statements use.
  public static let prelude = """
    m = model "svfap-nano" seed: 1
    f = model "svfap-nano" task: "finetune" classes: 2 seed: 2
    c = noise_clip(frames: 4, size: 32, seed: 3)
    mk = tube(0.75, seed: 4)
    r = reconstruct(m, c, mask: mk)
    """

  static let numbers = [
    "0", "1", "2", "3", "-1", "0.5", "4", "32", "1e300", "-1e300", "10^400", "-(10^400)",
    "sqrt(-1)", "9007199254740993", "1e15", "0.99", "100000",
    String(repeating: "1+", count: 300) + "1", String(repeating: "2^", count: 300) + "1",
  ]
  static let strings = [
    "\"\"", "\"svfap-nano\"", "\"x\"", "\"missing.mp4\"", "\"clip.mp4\"", "\"labels.csv\"",
    "\"/dev/null\"", "\".\"", "\"out/f.png\"", "\"pretrain\"",
    "\"finetune\"", "\"face\"", "\"center\"", "\"stop\"", "\"values\"", "\"state.safetensors\"",
    "\"ccc\"", "\"~/nothing\"",
    // Hostile text (gnuplot's command stream, shells, FFmpeg protocols) and special files: a FIFO
    // the harness makes in the folder, the program's own stdin.
    "\"a\\n!touch /tmp/svfap-fuzz-pwned\\n\"", "\"`touch /tmp/svfap-fuzz-pwned`\"",
    "\"x'; system('touch /tmp/svfap-fuzz-pwned'); '\"",
    "\"%s%n\\u0000\"", "\"fifo\"", "\"/dev/stdin\"", "\"/proc/self/fd/0\"", "\"pipe:0\"",
    // Depth: nested interpolation and a long chain (past the parser's 200 levels).
    "\"{\"{\"{1}\"}\"}\"", "\"{" + String(repeating: "1+", count: 300) + "1}\"",
  ]
  static let lists = [
    "[]", "[0]", "[-1]", "[0, 1]", "[1e300]", "[c]", "0..3", "0..99999999999", "[[1, 2], [3]]",
    "[m, f]", "[\"a\", \"b\"]",
  ]
  static let records = ["{}", "{a: 1}", "r", "{prediction: c, mask: mk, clip: c, model: m}"]
  static let handles = ["m", "f", "c", "mk", "r", "nil"]
  static let bools = ["true", "false"]

  /// Reads choices from bytes; past the end every choice is 0.
  struct Chooser {
    let bytes: [UInt8]
    var at = 0
    mutating func pick(_ n: Int) -> Int {
      guard n > 1 else { return 0 }
      defer { at += 1 }
      return at < bytes.count ? Int(bytes[at]) % n : 0
    }
    mutating func element<T>(_ xs: [T]) -> T { xs[pick(xs.count)] }
  }

  /// A value for a parameter of type `t`: mostly of its own kind, sometimes of any kind.
  static func value(for t: ParamType, _ ch: inout Chooser) -> String {
    let pools = [numbers, strings, lists, records, handles, bools]
    if ch.pick(4) == 0 { return ch.element(ch.element(pools)) }
    switch t {
    case .number, .real, .integer: return ch.element(numbers)
    case .string: return ch.element(strings)
    case .choice(let words):
      return ch.pick(3) == 0 ? ch.element(strings) : "\"\(ch.element(words))\""
    case .bool: return ch.element(bools)
    case .list: return ch.element(lists)
    case .record: return ch.element(records)
    case .handle(let kind):
      switch kind {
      case "model": return ch.element(["m", "f"])
      case "clip":
        return ch.element(["c", "c", "r.prediction", "noise_clip(frames: 4, size: 32, seed: 5)"])
      case "mask": return ch.element(["mk", "tube(0.5, seed: 1)", "random(0.75, seed: 2)"])
      default: return ch.element(handles)
      }
    case .any: return ch.element(ch.element(pools))
    }
  }

  /// One program: the prelude, then 1…6 generated calls of declared commands.
  public static func program(from bytes: [UInt8], commands: [Command]) -> String {
    var ch = Chooser(bytes: bytes)
    let usable = commands.filter { !excluded.contains($0.name) }.sorted { $0.name < $1.name }
    guard !usable.isEmpty else { return prelude }
    var lines = [prelude]
    for k in 0..<(1 + ch.pick(6)) {
      let c = ch.element(usable)
      var args: [String] = []
      for p in c.params where p.positional {
        if p.defaultValue != nil && ch.pick(3) == 0 { break }
        args.append(value(for: p.type, &ch))
        if p.variadic { break }
      }
      let options = c.params.filter { !$0.positional }
      for _ in 0..<ch.pick(4) where !options.isEmpty {
        let p = ch.element(options)
        if args.contains(where: { $0.hasPrefix(p.name + ": ") }) { continue }
        args.append("\(p.name): \(value(for: p.type, &ch))")
      }
      lines.append("v\(k) = \(c.name)(\(args.joined(separator: ", ")))")
    }
    return lines.joined(separator: "\n")
  }

  /// Runs a program in a fresh session working in `folder`; statement errors are expected (each
  /// line runs on its own, as at the prompt), a crash is the bug being looked for.
  public static func run(_ program: String, in folder: String) {
    let session = Session()
    session.interpreter.output = { _ in }
    session.interpreter.currentDirectory = folder
    session.interpreter.maxSteps = 10_000
    for line in program.split(separator: "\n") {
      _ = try? session.interpreter.run(String(line), file: "fuzz")
    }
  }
}
