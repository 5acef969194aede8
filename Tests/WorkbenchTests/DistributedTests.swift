import Foundation
import SVFAP
import Testing

@testable import TestSupport

/// Data-parallel training under Open MPI: `svfap run` started by `mpirun -n 2` gives the run one
/// process gives, both ranks hold identical parameters after every step, a killed 2-rank run resumes
/// alone on the same curve, and failures on one rank end every rank within seconds.
@Suite(.serialized, .tags(.mpi))
struct DistributedTests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()
  static let svfap = root.appendingPathComponent(".build/debug/svfap").path
  static let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("distributed")
  static let mpirun = ["mpirun", "--allow-run-as-root", "--oversubscribe"]

  /// A fresh folder for a test's files.
  func folder() throws -> String {
    let dir = FileManager.default.temporaryDirectory
      .appendingPathComponent("svfap-mpi-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
  }

  /// Runs `svfap run SCRIPT ARGS` alone (ranks 0) or under mpirun with `ranks` processes; returns
  /// the exit code (nil when it ran past `limit` seconds and was killed), the output and seconds.
  func svfap(
    ranks: Int?, _ script: String, _ args: [String], in dir: String, limit: Double = 300
  ) throws -> (code: Int32?, output: String, seconds: Double) {
    let log = dir + "/run-\(UUID().uuidString).log"
    let command = [Self.svfap, "run", Self.scripts.appendingPathComponent(script).path] + args
    let argv = ranks.map { Self.mpirun + ["-n", "\($0)"] + command } ?? command
    let start = Date()
    let pid = try spawnProcess(argv[0], Array(argv.dropFirst()), stdout: log, keepStderr: true)
    let code = waitWithLimit(pid, seconds: limit)
    let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
    return (code, output, Date().timeIntervalSince(start))
  }

  /// The exit status of `pid`, or nil after killing it when it runs past `seconds`.
  func waitWithLimit(_ pid: pid_t, seconds: Double) -> Int32? {
    let deadline = Date().addingTimeInterval(seconds)
    var status: Int32 = 0
    while Date() < deadline {
      if waitpid(pid, &status, WNOHANG) == pid {
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
      }
      usleep(50_000)
    }
    kill(pid, SIGKILL)
    waitpid(pid, &status, 0)
    return nil
  }

  /// The largest difference between two checkpoints' tensors, each measured against
  /// `relative · max|a| + absolute` of its tensor (≤ 1 passes); and whether they are bitwise equal.
  func compare(_ a: String, _ b: String, relative: Double, absolute: Double) throws -> (
    worst: Double, name: String, bitwise: Bool
  ) {
    let fa = try SafeTensorsFile(path: a), fb = try SafeTensorsFile(path: b)
    #expect(Set(fa.names) == Set(fb.names))
    var worst = 0.0, worstName = "", bitwise = true
    for name in fa.names {
      let x = try fa.tensor(name, dtype: .float64).toDoubles()
      let y = try fb.tensor(name, dtype: .float64).toDoubles()
      let scale = relative * (x.map(abs).max() ?? 0) + absolute
      for (u, v) in zip(x, y) {
        if u.bitPattern != v.bitPattern { bitwise = false }
        if abs(u - v) / scale > worst { (worst, worstName) = (abs(u - v) / scale, name) }
      }
    }
    return (worst, worstName, bitwise)
  }

  /// Tolerances per precision: 1e-10 relative in float64, 1e-5 in float32, each with an absolute
  /// floor below 1e-5 of a typical weight (0.02) for the bottleneck's fc2 bias, whose true gradient
  /// is zero (softmax ignores a shift of all its logits): Adam turns its rounding noise into values
  /// of ~1e-17 (float64) or ~1e-8 (float32) that depend on the summation order.
  static let tolerance: [String: (relative: Double, absolute: Double)] = [
    "float64": (1e-10, 1e-15), "float32": (1e-5, 1e-7),
  ]

  @Test(arguments: ["float64", "float32"])
  func twoRanksTrainAsOneProcess(dtype: String) throws {
    guard installed("mpirun") else {
      Issue.record("mpirun is missing: scripts/setup installs openmpi-bin")
      return
    }
    let dir = try folder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let data = Self.root.appendingPathComponent("examples/synthetic/folds.csv").path
    let alone = try svfap(ranks: nil, "equivalence.svfap", [dtype, dir, data, "alone"], in: dir)
    #expect(alone.code == 0, "\(alone.output.suffix(2000))")
    let threads = try svfap(
      ranks: nil, "equivalence.svfap", [dtype, dir, data, "threads"], in: dir)
    #expect(threads.code == 0, "\(threads.output.suffix(2000))")
    let two = try svfap(ranks: 2, "equivalence.svfap", [dtype, dir, data, "mpi"], in: dir)
    #expect(two.code == 0, "\(two.output.suffix(2000))")
    guard alone.code == 0, threads.code == 0, two.code == 0, let tol = Self.tolerance[dtype] else {
      return
    }
    for kind in ["pretrain", "finetune"] {
      for step in 1...5 {
        let one = "\(dir)/\(kind)-alone-s\(step)-r0.safetensors"
        let r0 = "\(dir)/\(kind)-mpi-s\(step)-r0.safetensors"
        let r1 = "\(dir)/\(kind)-mpi-s\(step)-r1.safetensors"
        let ranks = try compare(r0, r1, relative: 0, absolute: 1)
        #expect(ranks.bitwise, "\(kind) step \(step): the two ranks' parameters differ")
        for (other, how) in [
          (r0, "2 ranks × batch 2"),
          (
            "\(dir)/\(kind)-threads-s\(step)-r0.safetensors", "2 threads × batch 2"
          ),
        ] {
          let split = try compare(one, other, relative: tol.relative, absolute: tol.absolute)
          #expect(
            split.worst <= 1,
            """
            \(kind) step \(step) (\(dtype)): \(how) differ from 1 × batch 4 in \(split.name) by \
            \(split.worst) × the tolerance
            """)
        }
      }
    }
  }

  /// The "losses [...]" line of a run's output.
  func losses(_ output: String) -> [Double] {
    guard let line = output.split(separator: "\n").last(where: { $0.hasPrefix("losses") }) else {
      return []
    }
    return line.dropFirst("losses [".count).dropLast().split(separator: ",").compactMap {
      Double($0.trimmingCharacters(in: .whitespaces))
    }
  }

  @Test func killedTwoRankRunResumesAloneOnTheSameCurve() throws {
    guard installed("mpirun") else {
      Issue.record("mpirun is missing: scripts/setup installs openmpi-bin")
      return
    }
    let dir = try folder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let log = dir + "/two.log", state = dir + "/state.safetensors"
    let argv =
      Self.mpirun + [
        "-n", "2", Self.svfap, "run", Self.scripts.appendingPathComponent("interrupted.svfap").path,
        dir, "40",
      ]
    let pid = try spawnProcess(argv[0], Array(argv.dropFirst()), stdout: log, keepStderr: true)
    // Kill the run (mpirun's SIGTERM to every rank) once it has saved a few steps.
    let deadline = Date().addingTimeInterval(120)
    while Date() < deadline,
      ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").components(
        separatedBy: "saved training state"
      ).count < 4
    {
      usleep(100_000)
    }
    kill(pid, SIGTERM)
    let code = waitWithLimit(pid, seconds: 60)
    #expect(code != nil, "mpirun did not end within a minute of SIGTERM")
    #expect(code != 0, "the killed run reported success")
    let killedAt =
      try SafeTensorsFile(path: state).metadata["svfap.training"].flatMap {
        try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
      }?["step"] as? Int
    guard let killedAt, killedAt >= 3 else {
      Issue.record("no state of step 3 or later was saved: \(killedAt ?? -1)")
      return
    }
    let target = "\(killedAt + 3)"
    let resumed = try svfap(ranks: nil, "resumed.svfap", [dir, target], in: dir)
    #expect(resumed.code == 0, "\(resumed.output.suffix(2000))")
    let fresh = try svfap(ranks: nil, "interrupted.svfap", [dir + "/fresh", target], in: dir)
    #expect(fresh.code == 0, "\(fresh.output.suffix(2000))")
    let (a, b) = (losses(resumed.output), losses(fresh.output))
    #expect(a.count == killedAt + 3 && b.count == a.count, "\(a.count) and \(b.count) losses")
    for (k, (x, y)) in zip(a, b).enumerated() {
      #expect(abs(x - y) <= 1e-10 * abs(y), "step \(k + 1): resumed \(x), uninterrupted \(y)")
    }
  }

  @Test(arguments: [
    ("error-on-rank-1", "[rank 1]", "injected failure"),
    ("different-models", "rank 1 does not train what rank 0 trains", "dim 384 ≠ 96"),
  ])
  func aFailureOnOneRankEndsEveryRank(kind: String, who: String, what: String) throws {
    guard installed("mpirun") else {
      Issue.record("mpirun is missing: scripts/setup installs openmpi-bin")
      return
    }
    let dir = try folder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let run = try svfap(ranks: 2, "failures.svfap", [kind], in: dir, limit: 60)
    #expect(run.code != nil, "the ranks hung: still running after 60 s")
    #expect(run.code != 0)
    #expect(run.seconds < 30, "took \(run.seconds) s to end")
    #expect(run.output.contains(who) && run.output.contains(what), "\(run.output.prefix(3000))")
    #expect(!run.output.contains("not reached"))
  }
}
