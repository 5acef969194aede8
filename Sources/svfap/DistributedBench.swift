import ArgumentParser
import Distributed
import Foundation
import SVFAP
import Tools

extension Bench {
  /// `svfap bench distributed`, alone or under `mpirun -n N`.
  struct DistributedBench: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "distributed",
      abstract:
        """
        Time data-parallel pretraining steps in this process's world (alone, or under mpirun -n \
        N): {world, threads, batch, step_ms, clips_per_s, allreduce_ms, mb_per_step, \
        peak_rss_mb}. scripts/bench-distributed compares 1 rank x 2 threads with 2 ranks x 1.
        """
    )
    @Option(help: "Preset.") var preset = "svfap-tiny"
    @Option(help: "Global clips per step (split over the ranks).") var batch = 4
    @Option(help: "Timed steps after one warm-up step (median reported).") var steps = 10
    @Option(help: "Threads per process (default: 2 cores shared by this machine's ranks).")
    var threads: Int?
    @Option(
      help: """
        Train as N threads of this process instead (a replica and a shard each, one kernel thread \
        each); 0: off.
        """)
    var split = 0

    func run() throws {
      if split > 0 {
        try OptionCheck.check("split", split, in: 1...64)
        let results = ThreadGroup.run(size: split) { member in
          try DistributedBenchmark.run(
            world: member, preset: preset, batch: batch, steps: steps, threads: 1)
        }
        print(try results[0].get().json)
        return
      }
      let world = try MPIWorld.start()
      defer { (world as? MPIWorld)?.finish() }
      let local = Int(ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_LOCAL_SIZE"] ?? "") ?? 1
      let r = try DistributedBenchmark.run(
        world: world, preset: preset, batch: batch, steps: steps,
        threads: threads ?? max(1, 2 / max(local, 1)))
      if world.isRoot { print(r.json) }
    }
  }
}
