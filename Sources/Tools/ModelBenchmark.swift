import Experiments
import Glibc
import SVFAP
import Tensor

/// What a model benchmark times.
public enum BenchmarkMode: String, CaseIterable, Sendable {
  /// Forward only, no graph.
  case forward
  /// Forward and backward.
  case train
}

/// `svfap bench model` and `svfap bench memory`: timings of whole model steps on random clips.
public enum ModelBenchmark {
  /// The kinds of work a profiled step reports, in order ("other": the rest of the step).
  public static let profileKinds = Profile.Kind.allCases.map(\.name) + ["other"]

  /// One measurement.
  public struct Result: Sendable {
    /// Median milliseconds per step.
    public let medianMs: Double
    /// Fastest step.
    public let minMs: Double
    /// Multiply-adds × 2 per second (forward FLOPs; × 3 for training), in GFLOP/s.
    public let gflopPerSecond: Double
    /// Peak resident memory of the process so far.
    public let peakRssMB: Double
    /// Threads that split the batch (1: one model, `threads` kernel threads).
    public var split = 1
    /// With `profile`: mean milliseconds per step by kind of work ("other": the rest of the step;
    /// per thread when split).
    public var profileMs: [(kind: String, ms: Double)] = []
    /// With `profile`: median milliseconds the step's own sgemm calls take through raw sgemm,
    /// replayed after every timed step (`GemmCeiling`): the fastest its products can run here.
    public var sgemmCeilingMs: Double? = nil
    /// With `profile`: the median over timed steps of ceiling / step time (1: the step runs at raw
    /// sgemm's rate on its own shapes and spends nothing beside its products).
    public var ofCeiling: Double? = nil
    /// With `profile`: the median milliseconds of the same calls with operands that come from
    /// memory, not from cache (`GemmCeiling.replayMilliseconds(cold:)`): a step whose weights do
    /// not fit in the last-level cache runs its products between the two ceilings.
    public var coldCeilingMs: Double? = nil
    /// With `profile`: the median over timed steps of the cold ceiling / step time (neither when
    /// the cold replay's arena would take more than a quarter of the memory available).
    public var ofColdCeiling: Double? = nil
    /// With `profile`: the median milliseconds of the ceiling's calls the attention makes (its
    /// per-(clip, head) products); the rest of the ceiling is the linear layers'.
    public var attentionCeilingMs: Double? = nil

    /// The JSON line.
    public var json: String {
      """
      {\"median_ms\": \(r1(medianMs)), \"min_ms\": \(r1(minMs)), \"gflop_per_s\": \
      \(r1(gflopPerSecond)), \"peak_rss_mb\": \(r1(peakRssMB)), \"split\": \(split)\(profileJSON)\
      \(ceilingJSON)}
      """
    }

    /// `, "sgemm_ceiling_ms": …, "of_ceiling": …, "cold_ceiling_ms": …, "of_cold_ceiling": …[,
    /// "attention_ceiling_ms": …]` when profiled.
    var ceilingJSON: String {
      guard let sgemmCeilingMs, let ofCeiling else { return "" }
      var fields = ", \"sgemm_ceiling_ms\": \(r1(sgemmCeilingMs)), \"of_ceiling\": \(r2(ofCeiling))"
      if let coldCeilingMs, let ofColdCeiling {
        fields +=
          ", \"cold_ceiling_ms\": \(r1(coldCeilingMs)), \"of_cold_ceiling\": \(r2(ofColdCeiling))"
      }
      if let attentionCeilingMs {
        fields += ", \"attention_ceiling_ms\": \(r1(attentionCeilingMs))"
      }
      return fields
    }

    /// `, "profile_ms": {...}` when profiled.
    var profileJSON: String {
      guard !profileMs.isEmpty else { return "" }
      let fields = profileMs.map { "\"\($0.kind)\": \(r1($0.ms))" }.joined(separator: ", ")
      return ", \"profile_ms\": {\(fields)}"
    }
  }

  /// Peak RSS of this process in MB.
  public static func peakRssMB() -> Double {
    var u = rusage()
    getrusage(Int32(RUSAGE_SELF.rawValue), &u)
    return Double(u.ru_maxrss) / 1024
  }

  /// Current RSS in MB (from /proc/self/statm).
  public static func currentRssMB() -> Double {
    // statm: size, resident, … in pages.
    let fields = firstLine(ofFile: "/proc/self/statm")?.split(separator: " ") ?? []
    let resident = fields.count >= 2 ? Int(fields[1]) ?? 0 : 0
    return Double(resident) * Double(sysconf(Int32(_SC_PAGESIZE))) / 1_048_576
  }

  /// Times `runs` steps after `warmup` steps. With `split` > 1 (training steps only) the step is
  /// the one `train` and `finetune` run on a small model: `split` threads, each with a replica of
  /// the model, its share of the batch and single-threaded kernels, averaging their gradients in
  /// shared memory; times are member 0's, profiles the members' mean.
  public static func run(
    preset: String, task: ModelTask, mode: BenchmarkMode, batch: Int, threads: Int, runs: Int,
    warmup: Int = 1, maskRatio: Double = 0.9, profile: Bool = false, split: Int = 1
  ) throws -> Result {
    let cfg = try SVFAPConfig.preset(preset)
    guard batch >= 1 else { throw SVFAPError.badConfig("--batch must be at least 1") }
    let members = mode == .train ? max(split, 1) : 1
    guard batch % members == 0 else {
      throw SVFAPError.badConfig("a batch of \(batch) does not split over \(members) threads")
    }
    try MemoryEstimate.check(
      cfg, model: preset, task: task, training: mode == .train, batch: batch,
      maskRatio: maskRatio, replicas: members)
    let flops =
      (task == .finetune
        ? FLOPs.finetune(cfg)
        : FLOPs.pretrain(cfg, maskRatio: maskRatio, embeddedTokensOnly: true))
      * Double(batch) * (mode == .train ? 3 : 1)
    let saved = Threads.count
    defer { Threads.count = saved }
    Threads.count = members > 1 ? 1 : threads
    // The profile counters and the GEMM log are the process's: one profiled run at a time.
    if profile { profiling.lock() }
    defer { if profile { profiling.unlock() } }
    let timed = Timings()
    let ceilings = Timings(), attentionCeilings = Timings(), coldCeilings = Timings()
    if profile { GemmLog.start() }
    let results = ThreadGroup.run(size: members) { member in
      // Only the benchmark's own threads count in its profile.
      Profile.joinProfile()
      defer { Profile.leaveProfile() }
      var (step, model) = try makeStep(
        cfg, task: task, mode: mode, batch: batch / members, maskRatio: maskRatio,
        seed: UInt64(1 + member.rank))
      if members > 1 {
        let (local, average) = (step, GradientAveraging(world: member, model: model))
        step = {
          try local()
          try average()
        }
      }
      for _ in 0..<max(warmup, profile ? 1 : 0) { try step() }
      var ceiling: GemmCeiling? = nil
      if profile {
        _ = try member.sum([0])  // every member's warm-up calls are in the log
        if member.rank == 0 {
          ceiling = GemmCeiling(
            GemmLog.stop(), steps: max(warmup, 1), threads: threads,
            concurrent: members > 1 ? members : threads, oneThreadEach: members > 1)
          Profile.start()
        }
        _ = try member.sum([0])
      }
      for _ in 0..<max(runs, 1) {
        let t0 = monotonicSeconds()
        try step()
        if member.rank == 0 { timed.append((monotonicSeconds() - t0) * 1000) }
        guard profile else { continue }
        _ = try member.sum([0])  // the replay runs alone
        if let ceiling {
          // Peak RSS is a high-water mark: read it before the replay's operands exist (every
          // later step reuses the first one's buffers).
          if ceilings.values.isEmpty { ceilings.rssBeforeReplay = peakRssMB() }
          Profile.pause()
          let replay = ceiling.replayMilliseconds()
          ceilings.append(replay.total)
          attentionCeilings.append(replay.attention)
          if ceiling.coldArenaFits() {
            coldCeilings.append(ceiling.replayMilliseconds(cold: true).total)
          }
          Profile.resume()
        }
        _ = try member.sum([0])
      }
    }
    if profile { _ = GemmLog.stop() }  // off even when a member failed before the warm-up ended
    for r in results { try r.get() }
    let kinds = profile ? Profile.stop() : [:]
    var times = timed.values
    let mean = times.reduce(0, +) / Double(times.count)
    times.sort()
    let median = times[times.count / 2]
    var result = Result(
      medianMs: median, minMs: times[0], gflopPerSecond: 2 * flops / (median / 1000) / 1e9,
      peakRssMB: ceilings.rssBeforeReplay ?? peakRssMB())
    result.split = members
    if profile {
      let per = Profile.Kind.allCases.map {
        (kind: $0.name, ms: (kinds[$0] ?? 0) * 1000 / Double(times.count * members))
      }
      result.profileMs = per + [("other", mean - per.reduce(0) { $0 + $1.ms })]
      if let warm = medians(ceilings.values, of: timed.values) {  // one per timed step
        (result.sgemmCeilingMs, result.ofCeiling) = warm
        result.attentionCeilingMs = medians(attentionCeilings.values, of: [])?.ms
      }
      if let cold = medians(coldCeilings.values, of: timed.values) {  // none when it did not fit
        (result.coldCeilingMs, result.ofColdCeiling) = cold
      }
    }
    return result
  }

  /// The median of `replays` and the median over steps of replay / step time (`steps` may be
  /// empty: then the share is 0); nil without replays.
  static func medians(_ replays: [Double], of steps: [Double]) -> (ms: Double, share: Double)? {
    guard !replays.isEmpty else { return nil }
    let shares = zip(replays, steps).map { $0 / $1 }.sorted()
    return (replays.sorted()[replays.count / 2], shares.isEmpty ? 0 : shares[shares.count / 2])
  }

  /// The split a training call of `preset` at `batch` gets (`SplitTraining`'s rule): 2 threads
  /// for svfap-nano/svfap-tiny training on an even batch with 2 threads, else 1.
  public static func trainingSplit(
    preset: String, mode: BenchmarkMode, batch: Int, threads: Int
  ) throws -> Int {
    guard mode == .train else { return 1 }
    return SplitTraining.members(
      for: try SVFAPConfig.preset(preset), batch: batch, collective: SingleProcess(),
      cores: min(threads, Threads.available))
  }

  /// One step's work on `batch` random clips of a fresh model (weights from the preset's seed, the
  /// clips from `seed`): a forward pass without a graph, or forward and backward.
  static func makeStep(
    _ cfg: SVFAPConfig, task: ModelTask, mode: BenchmarkMode, batch: Int, maskRatio: Double,
    seed: UInt64
  ) throws -> (step: () throws -> Void, model: Module) {
    var rng = SplitMix64(seed: seed)
    let clip = Tensor.randn([batch, cfg.inChans, cfg.frames, cfg.imgSize, cfg.imgSize], rng: &rng)
    switch task {
    case .finetune:
      let model = try FinetuneModel(cfg)
      let parameters = model.parameters()  // found once: reflection takes milliseconds
      let labels = (0..<batch).map { $0 % cfg.numClasses }
      return (
        {
          if mode == .forward {
            _ = try withNoGrad { try model(clip) }
          } else {
            for p in parameters { p.grad = nil }
            try model(clip).crossEntropy(labels: labels).backward()
          }
        }, model
      )
    case .pretrain:
      let model = try PretrainModel(cfg)
      let parameters = model.parameters()
      return (
        {
          let mask = try TokenMask.tube(
            batch: batch, slices: cfg.timeSlices, perSlice: cfg.tokensPerSlice, ratio: maskRatio,
            rng: &rng)
          if mode == .forward {
            _ = try withNoGrad { try model.loss(clip, mask: mask) }
          } else {
            for p in parameters { p.grad = nil }
            try model.loss(clip, mask: mask).loss.backward()
          }
        }, model
      )
    }
  }

  /// Held by a profiled run (the profile counters and the GEMM log are process-wide).
  static let profiling = ProcessLock()

  /// A pthread mutex usable from any thread.
  final class ProcessLock: @unchecked Sendable {  // the mutex is its own synchronization
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    init() { pthread_mutex_init(mutex, nil) }
    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }
  }

  /// Step times appended by member 0 and read after the members end.
  final class Timings: @unchecked Sendable {  // written by one thread, read after it joined
    var values: [Double] = []
    /// Peak RSS read before the first GEMM-ceiling replay (profiled runs).
    var rssBeforeReplay: Double? = nil
    func append(_ v: Double) { values.append(v) }
  }

  /// Repeats forward+backward of `blocks` Transformer blocks (C 512, 800 tokens) and reports RSS
  /// after the first step and every `steps/10` steps: a flat series means no allocation churn.
  public static func memory(steps: Int, blocks: Int = 3, emit: (Int, Double) -> Void) throws {
    var cfg = try SVFAPConfig.preset("svfap-base")
    cfg.stageDepths = [blocks]
    let model = try FinetuneModel(cfg)
    var rng = SplitMix64(seed: 2)
    let clip = Tensor.randn([1, 3, 16, 160, 160], rng: &rng)
    for s in 1...max(steps, 1) {
      model.zeroGrad()
      try model(clip).crossEntropy(labels: [1]).backward()
      if s == 1 || s % max(steps / 10, 1) == 0 { emit(s, currentRssMB()) }
    }
  }
}

/// `v` rounded to one decimal, as text.
public func r1(_ v: Double) -> String { String((v * 10).rounded() / 10) }

/// `v` rounded to two decimals, as text.
public func r2(_ v: Double) -> String { String((v * 100).rounded() / 100) }
