// Fuzz target for the scanner, parser and interpreter (libFuzzer). `scripts/fuzz SECONDS` builds it
// with -sanitize=fuzzer,address -DFUZZING and runs it; a normal build makes a replayer that runs
// the inputs given as file arguments through the same entry point.
import Foundation

#if canImport(Script)
  import Script
#endif

/// Runs one input as a script with a step budget; errors are expected, crashes are bugs.
func runFuzzInput(_ bytes: UnsafeBufferPointer<UInt8>) {
  let text = String(decoding: bytes, as: UTF8.self)
  let interp = Interpreter()
  interp.output = { _ in }
  interp.maxSteps = 5000
  _ = try? interp.run(text, file: "fuzz")
}

#if FUZZING
  @_cdecl("LLVMFuzzerTestOneInput")
  public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    runFuzzInput(UnsafeBufferPointer(start: data, count: size))
    return 0
  }
#else
  /// Replays inputs (e.g. a crash file from .fuzz/) through the fuzz entry point.
  @main struct FuzzReplay {
    static func main() {
      for path in CommandLine.arguments.dropFirst() {
        guard let d = FileManager.default.contents(atPath: path) else { continue }
        d.withUnsafeBytes { runFuzzInput($0.bindMemory(to: UInt8.self)) }
        print("ok \(path)")
      }
    }
  }
#endif
