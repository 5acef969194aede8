import SVFAP
import Tensor

/// One training run on several threads of this process: each thread trains a replica on its shard
/// of every batch with single-threaded kernels, and the threads average their gradients in shared
/// memory (`ThreadGroup`), so the run's result is the one a single thread gives. On small models,
/// whose matrices are too small for two BLAS threads to pay, this is the faster use of the cores.
public enum SplitTraining {
  /// How many threads a call should use: 2 for a lone process on 2+ cores training a model of
  /// width ≤ 256 (svfap-nano, svfap-tiny) on a batch they divide; else 1 (no split).
  public static func members(
    for config: SVFAPConfig, batch: Int, collective: Collective, cores: Int
  ) -> Int {
    guard collective.size == 1, cores >= 2, config.dim <= 256, batch >= 2, batch % 2 == 0 else {
      return 1
    }
    return 2
  }

  /// Runs `body` once per member: member 0 with `run` itself, the others with replicas, each with
  /// its member of the group as the run's collective; kernels run single-threaded meanwhile.
  /// Returns member 0's result (a member's failure reaches every member through the step loop).
  public static func run<R: TrainingRun>(
    _ run: R, members: Int, _ body: @escaping (R, _ member: Int) throws -> TrainingStop
  ) throws -> TrainingStop {
    guard members > 1 else { return try body(run, 0) }
    let replicas = try (1..<members).map { _ in try run.replica() }
    let (threads, collective) = (Threads.count, run.collective)
    Threads.count = 1
    defer { (Threads.count, run.collective) = (threads, collective) }
    let results = ThreadGroup.run(size: members) { member -> TrainingStop in
      let mine = member.rank == 0 ? run : replicas[member.rank - 1]
      mine.collective = member
      return try body(mine, member.rank)
    }
    return try results[0].get()
  }
}
