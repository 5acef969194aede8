import Foundation
import Tensor

/// What a data-parallel step adds to a lone process's: the processes agree on the run when a call
/// starts (same model, same settings, rank 0's weights and optimizer state everywhere), agree after
/// each step's forward and backward (stop, error, non-finite loss: all or none), and sum their
/// gradients in flat buckets before the one update every process applies identically.
struct DataParallel {
  /// The processes.
  let world: Collective
  /// The flat buffer of the gradient sums, kept by the run between steps (a fresh one each step
  /// would page-fault its megabytes in again).
  let buffer: ReductionBuffer
  /// Largest bucket of one gradient sum, in elements (64 MB of Float32).
  static let bucketElements = 1 << 24

  /// What one process knows after its share of a step.
  struct Status {
    /// The process was asked to stop (Ctrl-C) before the step.
    var stop = false
    /// Its data ran out.
    var ended = false
    /// Its loss was not finite.
    var nonFinite = false
    /// Its share threw.
    var failed = false
    /// Its mean loss (summed over micro-batches).
    var loss = 0.0
    /// Clips it trained on.
    var clips = 0
    /// Its position in streamed data after the step (the run's is the furthest).
    var dataPosition = 0
  }

  /// What every process must share before training together: the architecture, the parameters'
  /// names and shapes, and the run's settings.
  struct Signature: Codable, Equatable {
    let config: SVFAPConfig
    let parameters: [String]
    /// The run's settings (their data seed left out: rank 0's is broadcast).
    let run: RunSettings
    /// Steps of this call.
    let steps: Int

    /// A run's settings as ranks compare them.
    static func comparable(_ s: RunSettings) -> RunSettings {
      var s = s
      s.dataSeed = 0
      return s
    }
  }

  /// Checks that every process holds the same model and run settings (an error naming the first
  /// difference, on every process), then gives every process rank 0's weights, optimizer moments,
  /// step, generators and data position.
  func synchronize(_ run: TrainingRunState, model: Module, signature: Signature) throws {
    let mine = try JSONEncoder().encode(signature)
    let all = try world.gather(Array(mine))
    // A rank that has finished its script meets this call in its last agreement (`RankAgreement`):
    // the call runs on some ranks only.
    let finished = all.indices.filter { all[$0] == RankAgreement.endOfScript }
    if !finished.isEmpty {
      let training = all.indices.filter { !finished.contains($0) }
      throw SVFAPError.badConfig(
        """
        rank(s) \(finished.map(String.init).joined(separator: ", ")) finished the script while \
        rank(s) \(training.map(String.init).joined(separator: ", ")) call train/finetune: every rank \
        must make the same training calls (a call inside `if rank == 0` trains alone)
        """)
    }
    let decoder = JSONDecoder()
    let reference = try decoder.decode(Signature.self, from: Data(all[0]))
    for (r, bytes) in all.enumerated().dropFirst() {
      let other = try decoder.decode(Signature.self, from: Data(bytes))
      if other != reference {
        throw SVFAPError.badConfig(
          "rank \(r) does not train what rank 0 trains (rank \(r)'s ≠ rank 0's): \(Self.difference(reference, other))"
        )
      }
    }
    for p in run.optimizer.parameters { try broadcast(p.tensor) }
    for k in run.optimizer.parameters.indices {
      try run.optimizer.m[k].withUnsafeMutableBytes { try world.broadcast($0, from: 0) }
      try run.optimizer.v[k].withUnsafeMutableBytes { try world.broadcast($0, from: 0) }
    }
    var words: [UInt64] = [
      UInt64(run.optimizer.step), run.rng.state, UInt64(bitPattern: Int64(run.dataPosition)),
      run.dataSeed,
    ]
    try words.withUnsafeMutableBytes { try world.broadcast($0, from: 0) }
    run.optimizer.setStep(Int(words[0]))
    (run.rng.state, run.dataPosition, run.dataSeed) = (
      words[1], Int(Int64(bitPattern: words[2])), words[3]
    )
  }

  /// The first field in which two signatures differ, in words.
  static func difference(_ a: Signature, _ b: Signature) -> String {
    if a.config != b.config {
      let named = b.config.architectureDifferences(from: a.config)
      return named.isEmpty ? "the model configurations differ" : named.joined(separator: "; ")
    }
    if a.parameters != b.parameters {
      let k =
        zip(a.parameters, b.parameters).enumerated().first(where: { $0.element.0 != $0.element.1 })?
        .offset ?? min(a.parameters.count, b.parameters.count)
      let left = k < a.parameters.count ? a.parameters[k] : "nothing"
      let right = k < b.parameters.count ? b.parameters[k] : "nothing"
      return "parameter \(k) is \(left) on rank 0 and \(right) there"
    }
    if a.steps != b.steps {
      return "this call runs steps \(a.steps) on rank 0 ≠ steps \(b.steps) there"
    }
    let named = a.run.differences(from: b.run)
    return "the run settings differ (rank 0's ≠ there): " + named.prefix(4).joined(separator: "; ")
  }

  /// Rank 0's values of a tensor on every process, in place.
  func broadcast(_ t: Tensor) throws {
    let bytes = t.count * (t.dtype == .float32 ? 4 : 8)
    let raw =
      t.dtype == .float32
      ? UnsafeMutableRawPointer(t.pointer(Float.self))
      : UnsafeMutableRawPointer(t.pointer(Double.self))
    try world.broadcast(UnsafeMutableRawBufferPointer(start: raw, count: bytes), from: 0)
  }

  /// Every process's status combined: flags or-ed, losses averaged, clips summed. When a process
  /// failed, the others throw an error naming it (with its message); it rethrows its own.
  func agree(_ s: Status, failure: Error?) throws -> Status {
    let flags = try world.maximum([
      s.stop ? 1 : 0, s.ended ? 1 : 0, s.nonFinite ? 1 : 0, s.failed ? Double(world.rank + 1) : 0,
      Double(s.dataPosition),
    ])
    let sums = try world.sum([s.loss, Double(s.clips)])
    if flags[3] > 0 {
      let failedRank = Int(flags[3]) - 1
      let text = try world.broadcast(
        Array((failure.map { "\($0)" } ?? "").utf8), from: failedRank)
      if let failure { throw failure }
      throw SVFAPError.badConfig(
        "rank \(failedRank) stopped the run: \(String(decoding: text, as: UTF8.self))")
    }
    var out = Status()
    (out.stop, out.ended, out.nonFinite) = (flags[0] > 0, flags[1] > 0, flags[2] > 0)
    (out.loss, out.clips) = (sums[0] / Double(world.size), Int(sums[1]))
    out.dataPosition = Int(flags[4])
    return out
  }

  /// Replaces every process's gradients with their mean over the processes: one sum per bucket of
  /// at most `bucketElements` values (a parameter no process has a gradient for keeps none).
  /// Returns the bytes this process put into the sums.
  func averageGradients(_ parameters: [(name: String, tensor: Tensor)]) throws -> Int {
    let holders = try world.sum(parameters.map { $0.tensor.grad == nil ? 0 : 1 })
    let scale = 1 / Double(world.size)
    var start = 0, bytes = 0
    while start < parameters.count {
      var end = start, elements = 0
      while end < parameters.count
        && (end == start || elements + parameters[end].tensor.count <= Self.bucketElements)
      {
        elements += parameters[end].tensor.count
        end += 1
      }
      let bucket = Array(start..<end).filter { holders[$0] > 0 }
      bytes += bucket.reduce(0) {
        $0 + parameters[$1].tensor.count * parameters[$1].tensor.dtype.size
      }
      if parameters[start].tensor.dtype == .float32 {
        try sumBucket(bucket, parameters, scale: Float(scale), world.sum)
      } else {
        try sumBucket(bucket, parameters, scale: scale, world.sum)
      }
      start = end
    }
    return bytes
  }

  /// Copies the bucket's gradients into one flat buffer, sums it over the processes, and writes the
  /// scaled sums back (creating a gradient where this process had none).
  private func sumBucket<T: BinaryFloatingPoint>(
    _ bucket: [Int], _ parameters: [(name: String, tensor: Tensor)], scale: T,
    _ sum: (UnsafeMutableBufferPointer<T>) throws -> Void
  ) throws {
    let total = bucket.reduce(0) { $0 + parameters[$1].tensor.count }
    guard total > 0 else { return }
    let flat = buffer.values(T.self, count: total)
    guard let base = flat.baseAddress else { return }
    var offset = 0
    for k in bucket {
      let p = parameters[k].tensor, n = p.count
      if let g = p.grad {
        (base + offset).update(from: g.pointer(T.self), count: n)
      } else {
        (base + offset).initialize(repeating: 0, count: n)
      }
      offset += n
    }
    try sum(flat)
    offset = 0
    for k in bucket {
      let p = parameters[k].tensor, n = p.count
      let g = p.grad ?? Tensor.zeros(p.shape, dtype: p.dtype)
      let dst = g.pointer(T.self), src = base + offset
      for i in 0..<n { dst[i] = src[i] * scale }
      p.grad = g
      offset += n
    }
  }
}

/// Memory reused by every step's gradient sums (grown when a bucket needs more).
final class ReductionBuffer {
  private var memory: UnsafeMutableRawPointer?
  private var bytes = 0

  deinit { memory?.deallocate() }

  /// Room for `count` values of `T` (contents undefined).
  func values<T>(_: T.Type, count: Int) -> UnsafeMutableBufferPointer<T> {
    let need = count * MemoryLayout<T>.stride
    if need > bytes {
      memory?.deallocate()
      memory = UnsafeMutableRawPointer.allocate(byteCount: need, alignment: 64)
      bytes = need
    }
    return UnsafeMutableBufferPointer(
      start: memory?.bindMemory(to: T.self, capacity: count), count: count)
  }
}

/// Averages a model's gradients over the members of a collective, as a data-parallel step does
/// between the backward pass and the update (for benchmarks that time that step without a trainer).
public final class GradientAveraging {
  private let parallel: DataParallel
  private let parameters: [(name: String, tensor: Tensor)]

  /// Averaging `model`'s gradients over `world`'s members (its parameters found once).
  public init(world: Collective, model: Module) {
    parallel = DataParallel(world: world, buffer: ReductionBuffer())
    parameters = model.namedParameters()
  }

  /// Replaces the model's gradients with their mean over the members; returns the bytes summed.
  @discardableResult
  public func callAsFunction() throws -> Int {
    try parallel.averageGradients(parameters)
  }
}
