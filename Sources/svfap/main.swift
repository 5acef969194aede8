import ArgumentParser
import SVFAP
import Tensor

/// The `svfap` command line: benchmarks and model tools (the workbench REPL comes in later issues).
@main
struct SVFAPCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "svfap",
    abstract: "SVFAP Workbench: self-supervised facial-affect video models.",
    subcommands: [Bench.self])
}

/// `svfap bench …`: figures as JSON lines.
struct Bench: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Print benchmark figures as JSON lines.", subcommands: [Ops.self])

  /// `svfap bench ops`.
  struct Ops: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Matmul against raw sgemm on TPSBT-B shapes; ns/element of LayerNorm, GELU, softmax.")
    @Option(help: "Threads for the matmul figures.") var threads = 2
    @Option(help: "Timed runs per figure (median reported).") var runs = 20

    func run() throws {
      try OpsBenchmark.run(threads: threads, runs: runs) { print($0.json) }
    }
  }
}
