import Distributed
import Foundation
import SVFAP
import Script
import Workbench

/// `svfap run` under `mpirun`: the session joins MPI's world before the script and leaves it after.
enum ProcessGroup {
  /// Starts MPI when `mpirun` launched this process and makes the session train with its ranks
  /// (SIGTERM, which mpirun sends on Ctrl-C, then stops at the next step boundary like Ctrl-C).
  /// Returns the world (nil when alone).
  static func join(_ session: Session) throws -> MPIWorld? {
    guard MPIWorld.isLaunchedByMPI, let world = try MPIWorld.start() as? MPIWorld else {
      return nil
    }
    let local = Int(ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_LOCAL_SIZE"] ?? "") ?? 1
    session.join(world, localProcesses: local)
    signal(SIGTERM) { _ in Interrupt.request() }
    return world
  }

  /// Ends the MPI run: normally when the script succeeded everywhere; with MPI_Abort when it
  /// failed here, so no other rank waits for this one in a collective.
  static func leave(_ world: MPIWorld?, code: Int32) {
    guard let world else { return }
    if code != 0 {
      FileHandle.standardError.write(
        Data("[rank \(world.rank)] the script failed (exit \(code)): ending all ranks\n".utf8))
      world.abort(code: code)
    }
    // The last agreement: every rank has ended its script (see `RankAgreement`); a rank still in
    // a train/finetune call meets this one instead and both sides stop.
    let all: [[UInt8]]
    do { all = try world.gather(RankAgreement.endOfScript) } catch { world.abort(code: 70) }
    let busy = all.indices.filter { all[$0] != RankAgreement.endOfScript }
    if !busy.isEmpty {
      FileHandle.standardError.write(
        Data(
          """
          [rank \(world.rank)] error: this rank finished the script while rank(s) \
          \(busy.map(String.init).joined(separator: ", ")) call train/finetune: every rank must make \
          the same training calls; ending all ranks

          """.utf8))
      world.abort(code: 70)
    }
    world.finish()
  }
}
