// Fuzz target for the figure writer (libFuzzer): each input's bytes become the text of every slot of a
// figure (titles, labels, series and class names, the colour scale's label); the command stream that
// would draw it must pass `GnuplotAudit` (no shell line, no `system`, backquote or macro outside
// quotes, no line break inside a command). `scripts/fuzz SECONDS figure` builds it with
// -sanitize=fuzzer,address -DFUZZING; a normal build replays the files given as arguments.
import Foundation

#if canImport(Plot)
  import Plot
#endif

/// Audits the stream for one input; a problem aborts (libFuzzer then saves the input).
func auditFigureInput(_ bytes: UnsafeBufferPointer<UInt8>) {
  let text = String(decoding: bytes, as: UTF8.self)
  let chunks = Gnuplot().commands(
    GnuplotAudit.figure(text), output: "/tmp/fuzz.png", terminal: .png)
  let problems = GnuplotAudit.problems(chunks)
  if !problems.isEmpty {
    FileHandle.standardError.write(Data("unsafe gnuplot stream: \(problems.prefix(3))\n".utf8))
    abort()
  }
}

#if FUZZING
  @_cdecl("LLVMFuzzerTestOneInput")
  public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    auditFigureInput(UnsafeBufferPointer(start: data, count: size))
    return 0
  }
#else
  /// Replays inputs (e.g. a crash file from .fuzz/) through the audit.
  @main struct FigureFuzzReplay {
    static func main() {
      for path in CommandLine.arguments.dropFirst() {
        guard let d = FileManager.default.contents(atPath: path) else { continue }
        d.withUnsafeBytes { auditFigureInput($0.bindMemory(to: UInt8.self)) }
        print("ok \(path)")
      }
    }
  }
#endif
