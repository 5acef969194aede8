// Fuzz target for a whole workbench session (libFuzzer): each input's bytes choose a program of
// declared commands with hostile arguments (SessionFuzzing.program), which runs in a fresh Session
// over a nano model, a 4-frame clip, a tiny video and a manifest. With
// SVFAP_FUZZ_TARGET=pickle|safetensors|pth the bytes are a file of that format instead, read as a
// checkpoint would be (FormatFuzzing). `scripts/fuzz-session SECONDS` builds it with
// -sanitize=fuzzer,address -DFUZZING and runs it; a normal build is a replayer: file arguments are
// inputs to replay, `--random N [SEED]` runs N programs from a seeded generator.
import Foundation
import Media
import Script
import Synchronization
import Workbench

/// The folder every program works in, with `clip.mp4` (4 frames, 32x32) and `labels.csv`.
let workFolder: String = {
  let dir = NSTemporaryDirectory() + "svfap-session-fuzz-\(getpid())"
  try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
  if let w = try? VideoWriter(path: dir + "/clip.mp4", width: 32, height: 32, fps: 25) {
    for k in 0..<6 {
      try? w.write(rgb: (0..<(32 * 32 * 3)).map { UInt8(truncatingIfNeeded: $0 &* (k + 3)) })
    }
    try? w.finish()
  }
  try? "path,label\nclip.mp4,0\nclip.mp4,1\n".write(
    toFile: dir + "/labels.csv", atomically: true, encoding: .utf8)
  mkfifo(dir + "/fifo", 0o600)  // a special file the generated programs name
  return dir
}()

/// When the current program started (ms of uptime), for the watchdog; 0 = none running.
let started = Atomic<Int64>(0)

/// Interrupts a program that runs longer than 2 s (a long but legal training run), as Ctrl-C would.
nonisolated(unsafe) let watchdog: Thread = {
  let t = Thread {
    while true {
      usleep(100_000)
      let s = started.load(ordering: .relaxed),
        now = Int64(ProcessInfo.processInfo.systemUptime * 1000)
      if s > 0 && now - s > 2000 { Interrupt.request() }
    }
  }
  t.start()
  return t
}()

/// What the target fuzzes: `SVFAP_FUZZ_TARGET` = session (default), pickle, safetensors or pth.
let target = ProcessInfo.processInfo.environment["SVFAP_FUZZ_TARGET"] ?? "session"

/// Runs one input through the chosen target.
func runOne(_ bytes: [UInt8]) {
  switch target {
  case "pickle", "safetensors", "pth": FormatFuzzing.run(bytes, format: target, folder: workFolder)
  default: runSession(bytes)
  }
}

/// Generates the session program for `bytes` and runs it.
func runSession(_ bytes: [UInt8]) {
  _ = watchdog
  let program = SessionFuzzing.program(
    from: bytes, commands: Array(Session().interpreter.commands.values))
  Interrupt.clear()
  started.store(Int64(ProcessInfo.processInfo.systemUptime * 1000), ordering: .relaxed)
  SessionFuzzing.run(program, in: workFolder)
  started.store(0, ordering: .relaxed)
}

#if FUZZING
  @_silgen_name("LLVMFuzzerRunDriver")
  func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
  ) -> Int32

  /// The program's entry point under libFuzzer (SwiftPM names an executable's main
  /// `<module>_main`).
  @_cdecl("svfap_session_fuzz_main")
  func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32
  {
    var (c, v) = (argc, argv)
    return LLVMFuzzerRunDriver(&c, &v) { data, size in
      guard let data else { return 0 }
      runOne(Array(UnsafeBufferPointer(start: data, count: size)))
      return 0
    }
  }
#else
  /// Replays inputs, or runs seeded random programs (`--random N [SEED]`), printing each program
  /// first.
  @main struct SessionFuzzReplay {
    static func main() {
      var args = Array(CommandLine.arguments.dropFirst())
      if args.first == "--random" {
        args.removeFirst()
        let n = args.first.flatMap { Int($0) } ?? 100
        var state = UInt64(args.dropFirst().first.flatMap { UInt64($0) } ?? 1)
        let t0 = Date()
        for _ in 0..<max(n, 0) {
          let bytes = (0..<64).map { _ -> UInt8 in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: state >> 56)
          }
          runOne(bytes)
        }
        print(
          """
          \(n) programs, no crash, \
          \(String(format: "%.1f", Double(n) / Date().timeIntervalSince(t0))) programs/s
          """
        )
        return
      }
      for path in args {
        guard let d = FileManager.default.contents(atPath: path) else { continue }
        if target == "session" {
          print(
            SessionFuzzing.program(
              from: Array(d), commands: Array(Session().interpreter.commands.values)))
        }
        runOne(Array(d))
        print("ok \(path)")
      }
    }
  }
#endif
