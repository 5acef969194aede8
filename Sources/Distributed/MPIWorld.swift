import CMPI
import Foundation
import SVFAP

/// The processes `mpirun` started, as a `Collective` over Open MPI's MPI_COMM_WORLD. MPI is
/// started only when the process was launched by `mpirun` (its environment says so); otherwise the
/// process trains alone and nothing changes.
public final class MPIWorld: Collective {
  /// This process's rank.
  public let rank: Int
  /// The number of processes.
  public let size: Int

  private init(rank: Int, size: Int) { (self.rank, self.size) = (rank, size) }

  /// Whether `mpirun` (Open MPI) launched this process.
  public static var isLaunchedByMPI: Bool {
    ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_SIZE"] != nil
  }

  /// MPI's world when launched by `mpirun`, else a lone process. Call once, from the main thread,
  /// before any training.
  public static func start() throws -> Collective {
    guard isLaunchedByMPI else { return SingleProcess() }
    var provided: Int32 = 0
    try check(MPI_Init_thread(nil, nil, svfap_mpi_thread_funneled(), &provided), "MPI_Init_thread")
    var r: Int32 = 0, n: Int32 = 0
    try check(MPI_Comm_rank(svfap_mpi_comm_world(), &r), "MPI_Comm_rank")
    try check(MPI_Comm_size(svfap_mpi_comm_world(), &n), "MPI_Comm_size")
    return MPIWorld(rank: Int(r), size: Int(n))
  }

  /// Ends MPI normally (every process must call it).
  public func finish() { MPI_Finalize() }

  /// Ends every process of the run at once with `code` (an error on one rank must not leave the
  /// others waiting in a collective).
  public func abort(code: Int32) -> Never {
    MPI_Abort(svfap_mpi_comm_world(), code)
    exit(code)
  }

  /// Element-wise sum, in place (in chunks MPI's Int32 counts can hold).
  public func sum(_ values: UnsafeMutableBufferPointer<Float>) throws {
    try reduce(UnsafeMutableRawPointer(values.baseAddress), values.count, svfap_mpi_float(), 4)
  }

  /// Element-wise sum, in place.
  public func sum(_ values: UnsafeMutableBufferPointer<Double>) throws {
    try reduce(UnsafeMutableRawPointer(values.baseAddress), values.count, svfap_mpi_double(), 8)
  }

  /// Element-wise maximum, in place.
  public func maximum(_ values: UnsafeMutableBufferPointer<Double>) throws {
    try reduce(
      UnsafeMutableRawPointer(values.baseAddress), values.count, svfap_mpi_double(), 8,
      op: svfap_mpi_max())
  }

  /// `root`'s bytes in place everywhere.
  public func broadcast(_ bytes: UnsafeMutableRawBufferPointer, from root: Int) throws {
    guard let base = bytes.baseAddress else { return }
    var offset = 0
    while offset < bytes.count {
      let n = min(bytes.count - offset, Self.chunk)
      try Self.check(
        MPI_Bcast(base + offset, Int32(n), svfap_mpi_byte(), Int32(root), svfap_mpi_comm_world()),
        "MPI_Bcast")
      offset += n
    }
  }

  /// Every process's bytes in rank order.
  public func gather(_ bytes: [UInt8]) throws -> [[UInt8]] {
    guard bytes.count < Self.chunk else {
      throw SVFAPError.badConfig("\(bytes.count) bytes are too many to gather in one call")
    }
    var lengths = [Int32](repeating: 0, count: size)
    var mine = Int32(bytes.count)
    try Self.check(
      MPI_Allgather(
        &mine, 1, svfap_mpi_int(), &lengths, 1, svfap_mpi_int(), svfap_mpi_comm_world()),
      "MPI_Allgather")
    var offsets = [Int32](repeating: 0, count: size)
    for r in 1..<max(size, 1) { offsets[r] = offsets[r - 1] + lengths[r - 1] }
    let total = Int(offsets[size - 1] + lengths[size - 1])
    var all = [UInt8](repeating: 0, count: max(total, 1))
    var send = bytes.isEmpty ? [0] : bytes
    try Self.check(
      MPI_Allgatherv(
        &send, mine, svfap_mpi_byte(), &all, &lengths, &offsets, svfap_mpi_byte(),
        svfap_mpi_comm_world()),
      "MPI_Allgatherv")
    return (0..<size).map { r in
      Array(all[Int(offsets[r])..<Int(offsets[r] + lengths[r])])
    }
  }

  /// Largest count of one MPI call.
  static let chunk = 1 << 30

  private func reduce(
    _ base: UnsafeMutableRawPointer?, _ count: Int, _ type: MPI_Datatype, _ width: Int,
    op: MPI_Op = svfap_mpi_sum()
  ) throws {
    guard let base else { return }
    var offset = 0
    while offset < count {
      let n = min(count - offset, Self.chunk / width)
      try Self.check(
        MPI_Allreduce(
          svfap_mpi_in_place(), base + offset * width, Int32(n), type, op, svfap_mpi_comm_world()),
        "MPI_Allreduce")
      offset += n
    }
  }

  private static func check(_ code: Int32, _ call: String) throws {
    guard code == svfap_mpi_success() else {
      throw SVFAPError.badConfig("\(call) failed (MPI error \(code))")
    }
  }
}
