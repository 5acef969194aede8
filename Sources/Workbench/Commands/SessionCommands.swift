import SVFAP
import Script
import Tensor
import Tools

/// `seed`: restart the session's seed stream.
struct SetSeed: SessionCommand {
  unowned let session: Session
  let declaration = CommandDeclaration(
    "seed", topic: "session",
    summary:
      "Set the session's seed: later masks, clips and models without an explicit seed repeat.",
    params: [.positional("value", .integer, "the seed").within(Limits.seed)], example: "seed 42")

  func run(_ a: Arguments, in interp: Interpreter) throws -> Value {
    session.seed(try a.seed("value"))
    return .nilValue
  }
}

/// `set`: session settings (threads, autosave).
struct SetSettings: SessionCommand {
  unowned let session: Session
  let declaration = CommandDeclaration(
    "set", topic: "session", summary: "Change session settings.",
    params: [
      .option("threads", .integer, "threads for BLAS and kernels", default: .nilValue).within(
        Limits.threads),
      .option(
        "autosave", .bool, "checkpoint training runs into the session's autosave folder",
        default: .nilValue),
      .option(
        "autosave_every", .integer, "autosave a run after this many steps", default: .nilValue
      ).within(1...Limits.steps.upperBound),
      .option(
        "autosave_minutes", .number, "…or after this many minutes, whichever comes first",
        default: .nilValue
      ).within(0.01...1e6),
      .option(
        "split", .bool,
        """
        train and finetune split each batch of a small model (width ≤ 256: svfap-nano, \
        svfap-tiny) over the session's threads, a model replica each with single-threaded \
        kernels, when the batch divides (faster than two BLAS threads on small matrices; the same \
        results)
        """,
        default: .nilValue),
      .option(
        "memory_limit", .integer,
        """
        the most MiB one string or list the session's language builds may take (default: a \
        quarter of the memory available at start); beyond it, a located error naming the budget
        """,
        default: .nilValue
      ).within(1...1_073_741_824),
      .choice(
        "inline", TerminalImages.Setting.self,
        """
        figures also drawn in the terminal: auto (when an interactive terminal names kitty/iTerm2 \
        or answers the sixel probe within 100 ms), on, or off (files only)
        """,
        default: nil),
    ],
    returns: "record of the settings", example: "set threads: 2 autosave_every: 50")

  func run(_ a: Arguments, in interp: Interpreter) throws -> Value {
    if let n = try a.intIfGiven("threads") { Threads.count = n }
    if let mib = try a.intIfGiven("memory_limit") { interp.memoryLimit = mib << 20 }
    if a.has("split") { session.splitThreads = try a.bool("split") }
    if a.has("inline") {
      session.inlineImages = try a.choice("inline", as: TerminalImages.Setting.self)
    }
    if let save = session.autosave {
      if a.has("autosave") { save.enabled = try a.bool("autosave") }
      if let n = try a.intIfGiven("autosave_every") { save.everySteps = n }
      if let m = try a.numberIfGiven("autosave_minutes") { save.everySeconds = m * 60 }
    } else if a.has("autosave") || a.has("autosave_every") || a.has("autosave_minutes") {
      throw a.error("this session has no autosave folder (the svfap program makes one)")
    }
    var fields: [(String, Value)] = [
      ("threads", .number(Double(Threads.count))), ("split", .bool(session.splitThreads)),
      ("inline", .string(session.inlineImages.rawValue)),
      ("memory_limit", .number(Double(interp.memoryLimit >> 20))),
    ]
    if let save = session.autosave {
      fields += [
        ("autosave", .bool(save.enabled)), ("autosave_folder", .string(save.folder)),
        ("autosave_every", .number(Double(save.everySteps))),
        ("autosave_minutes", .number(save.everySeconds / 60)),
      ]
    }
    return .record(Record(fields))
  }
}

/// `bench`: time a model step.
struct BenchModel: SessionCommand {
  unowned let session: Session
  let declaration = CommandDeclaration(
    "bench", topic: "model",
    summary:
      """
      Time a model step on random clips (as `svfap bench model`); a training step is the one \
      `train`/`finetune` run in this session (split over the threads on svfap-nano/svfap-tiny \
      with an even batch unless `set split: false`; `split` in the result).
      """,
    params: [
      .positional("preset", .string, "a preset name"),
      .choice("task", ModelTask.self, "the model to time", default: .pretrain),
      .choice("mode", BenchmarkMode.self, "forward only, or forward + backward", default: .train),
      .option(
        "batch", .integer,
        "clips per step (\(Limits.batchMemoryNote))", default: .number(1)
      ).within(Limits.batch),
      .option("runs", .integer, "timed steps", default: .number(3)).within(1...1000),
      .option(
        "profile", .bool,
        "also where a step's time goes by kind of work ("
          + ModelBenchmark.profileKinds.joined(separator: ", ")
          + "), mean ms per step (per thread when split), and the step's own sgemm calls "
          + "replayed through raw sgemm after each step (sgemm_ceiling_ms; of_ceiling: its "
          + "median share of the step's time; cold_ceiling_ms, of_cold_ceiling: the same "
          + "calls on operands that come from memory, not cache, unless short of memory; "
          + "attention_ceiling_ms: the attention's part of the ceiling)",
        default: .bool(false)),
    ],
    returns:
      "record {median_ms, min_ms, gflop_per_s, peak_rss_mb, split[, profile_ms: {kind: ms}, "
      + "sgemm_ceiling_ms, of_ceiling, attention_ceiling_ms[, cold_ceiling_ms, of_cold_ceiling]]}",
    example: "bench \"svfap-tiny\" batch: 4 profile: true")

  func run(_ a: Arguments, in interp: Interpreter) throws -> Value {
    let (preset, task, mode) = (
      try a.string("preset"), try a.choice("task", as: ModelTask.self),
      try a.choice("mode", as: BenchmarkMode.self)
    )
    let (batch, runs, profile) = (try a.int("batch"), try a.int("runs"), try a.bool("profile"))
    let r = try a.located {
      let split = mode == .train ? session.split(try SVFAPConfig.preset(preset), batch: batch) : 1
      return try ModelBenchmark.run(
        preset: preset, task: task, mode: mode, batch: batch, threads: Threads.count, runs: runs,
        profile: profile, split: split)
    }
    var fields: [(String, Value)] = [
      ("median_ms", .number(r.medianMs)), ("min_ms", .number(r.minMs)),
      ("gflop_per_s", .number(r.gflopPerSecond)), ("peak_rss_mb", .number(r.peakRssMB)),
      ("split", .number(Double(r.split))),
    ]
    if profile {
      fields.append(("profile_ms", .record(Record(r.profileMs.map { ($0.kind, .number($0.ms)) }))))
      if let ms = r.sgemmCeilingMs, let share = r.ofCeiling {
        fields += [("sgemm_ceiling_ms", .number(ms)), ("of_ceiling", .number(share))]
        if let cold = r.coldCeilingMs, let coldShare = r.ofColdCeiling {
          fields += [("cold_ceiling_ms", .number(cold)), ("of_cold_ceiling", .number(coldShare))]
        }
        if let attention = r.attentionCeilingMs {
          fields.append(("attention_ceiling_ms", .number(attention)))
        }
      }
    }
    return .record(Record(fields))
  }
}

/// `rank`: this process's rank in a run of several processes.
struct RankValue: SessionCommand {
  unowned let session: Session
  let declaration = CommandDeclaration(
    "rank", topic: "session",
    summary:
      """
      This process's rank (0…world−1) when `mpirun -n N svfap run FILE` runs the script on N \
      processes that train together; 0 when alone.
      """,
    returns: "number", example: "if rank == 0 { print \"the first process\" }")

  func run(_ a: Arguments, in interp: Interpreter) throws -> Value {
    .number(Double(session.collective.rank))
  }
}

/// `world`: how many processes train together.
struct WorldSize: SessionCommand {
  unowned let session: Session
  let declaration = CommandDeclaration(
    "world", topic: "session",
    summary:
      """
      How many processes run this script together (`mpirun -n N`: N; alone: 1). `train` and \
      `finetune` split each global batch over them and average their gradients.
      """,
    returns: "number", example: "print \"{world} processes, {batch / world} clips each\"")

  func run(_ a: Arguments, in interp: Interpreter) throws -> Value {
    .number(Double(session.collective.size))
  }
}
