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
    world.finish()
  }
}
