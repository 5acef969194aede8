import Foundation

/// The processes that train one model together (data parallelism): each holds the whole model and
/// a shard of every batch. MPI provides the real one (`Distributed.MPIWorld`); a lone process is
/// `SingleProcess`, for which every call is the identity.
public protocol Collective: AnyObject {
  /// This process's index, 0..<size.
  var rank: Int { get }
  /// How many processes take part.
  var size: Int { get }
  /// Element-wise sum over all processes, in place.
  func sum(_ values: UnsafeMutableBufferPointer<Float>) throws
  /// Element-wise sum over all processes, in place.
  func sum(_ values: UnsafeMutableBufferPointer<Double>) throws
  /// Element-wise maximum over all processes, in place.
  func maximum(_ values: UnsafeMutableBufferPointer<Double>) throws
  /// `root`'s bytes in place on every process (the same length everywhere).
  func broadcast(_ bytes: UnsafeMutableRawBufferPointer, from root: Int) throws
  /// Every process's bytes (any length), in rank order, on every process.
  func gather(_ bytes: [UInt8]) throws -> [[UInt8]]
}

extension Collective {
  /// Whether this process writes files, logs and figures (rank 0 alone).
  public var isRoot: Bool { rank == 0 }

  /// The element-wise sum of `values` over all processes.
  public func sum(_ values: [Double]) throws -> [Double] {
    var out = values
    try out.withUnsafeMutableBufferPointer { try sum($0) }
    return out
  }

  /// The element-wise maximum of `values` over all processes.
  public func maximum(_ values: [Double]) throws -> [Double] {
    var out = values
    try out.withUnsafeMutableBufferPointer { try maximum($0) }
    return out
  }

  /// `root`'s bytes (any length) on every process: the length first, then the bytes.
  public func broadcast(_ bytes: [UInt8], from root: Int) throws -> [UInt8] {
    var length = [Double(bytes.count)]
    try length.withUnsafeMutableBytes { try broadcast($0, from: root) }
    var out = rank == root ? bytes : [UInt8](repeating: 0, count: Int(length[0]))
    try out.withUnsafeMutableBytes { try broadcast($0, from: root) }
    return out
  }
}

/// One process alone: sums and broadcasts are the identity.
public final class SingleProcess: Collective {
  /// The lone process.
  public init() {}
  /// Always 0.
  public var rank: Int { 0 }
  /// Always 1.
  public var size: Int { 1 }
  /// The identity.
  public func sum(_ values: UnsafeMutableBufferPointer<Float>) {}
  /// The identity.
  public func sum(_ values: UnsafeMutableBufferPointer<Double>) {}
  /// The identity.
  public func maximum(_ values: UnsafeMutableBufferPointer<Double>) {}
  /// The identity.
  public func broadcast(_ bytes: UnsafeMutableRawBufferPointer, from root: Int) {}
  /// The bytes themselves.
  public func gather(_ bytes: [UInt8]) -> [[UInt8]] { [bytes] }
}

/// Which part of a global batch this process takes: the contiguous samples
/// `index · b ..< (index + 1) · b` of each batch of `count · b`.
public struct Shard: Sendable, Equatable {
  /// This process's index.
  public let index: Int
  /// How many shards there are.
  public let count: Int
  /// The whole batch (one process).
  public static let whole = Shard(index: 0, count: 1)

  /// A shard of a collective's world.
  public init(index: Int, count: Int) { (self.index, self.count) = (index, max(count, 1)) }

  /// The local batch of a global `batch`; a batch the shards cannot split evenly is an error.
  public func localBatch(of batch: Int) throws -> Int {
    guard batch % count == 0, batch >= count else {
      throw SVFAPError.badConfig(
        """
        batch \(batch) cannot be split evenly over \(count) processes: batch: is the global \
        batch; use a multiple of \(count)
        """)
    }
    return batch / count
  }

  /// The positions of a global batch of `batch` samples this shard takes.
  public func range(of batch: Int) throws -> Range<Int> {
    let b = try localBatch(of: batch)
    return index * b..<(index + 1) * b
  }
}

/// What ranks tell each other so that no rank waits forever on another: every `train`/`finetune`
/// call begins with an agreement on the run (model, settings, step count), and a script's end is
/// one more agreement, carrying this marker. A rank that ends its script while another starts a
/// call, or the reverse, meets the other in that agreement and every rank stops with an error
/// naming the ranks, instead of one spinning in a collective the other never joins.
public enum RankAgreement {
  /// The bytes a rank contributes to the last agreement, at the end of its script.
  public static let endOfScript = Array("svfap: end of script".utf8)
}
