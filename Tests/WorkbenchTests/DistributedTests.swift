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

  /// The largest difference between two checkpoints' tensors, each measured against its bound
  /// (`bound(name, max|a|)`; ≤ 1 passes); and whether they are bitwise equal.
  func compare(_ a: String, _ b: String, bound: (String, Double) -> Double) throws -> (
    worst: Double, name: String, bitwise: Bool
  ) {
    let fa = try SafeTensorsFile(path: a), fb = try SafeTensorsFile(path: b)
    #expect(Set(fa.names) == Set(fb.names))
    var worst = 0.0, worstName = "", bitwise = true
    for name in fa.names {
      let x = try fa.tensor(name, dtype: .float64).toDoubles()
      let y = try fb.tensor(name, dtype: .float64).toDoubles()
      let scale = max(bound(name, x.map(abs).max() ?? 0), .leastNormalMagnitude)
      for (u, v) in zip(x, y) {
        if u.bitPattern != v.bitPattern { bitwise = false }
        if abs(u - v) / scale > worst { (worst, worstName) = (abs(u - v) / scale, name) }
      }
    }
    return (worst, worstName, bitwise)
  }

  /// The relative bound on a split run's difference after `steps` steps, from the arithmetic.
  /// Splitting the batch (2 ranks × 2 clips, or 2 threads × 2 clips, against 1 × 4) changes only the
  /// order in which each gradient's terms are summed. Reordering a sum of K terms moves it by about
  /// u·√K of its terms' magnitudes (u the unit roundoff: 2⁻²⁴ in float32, 2⁻⁵³ in float64); terms of
  /// mixed sign sum to ~1/√K of those magnitudes, so a gradient element moves by ~u·K of itself.
  /// Here K = batch × tokens = 4 × 800. Adam passes a gradient's relative difference into its update
  /// one to one (at most: the update saturates at ±lr where |g| ≫ ε), and the steps add: s·u·K of an
  /// element's size, which is at most the larger of its tensor's largest value and the most Adam
  /// can have moved it (`adamBound` / 2: tensors that start at zero, as biases do). Times 10 for the
  /// elements in the tail of |g| (measured on a Sapphire Rapids Xeon: at most 200 u of the largest
  /// value in pretraining, 1.3e4 u in fine-tuning's first step, on a bias that started at zero).
  /// It holds for every OpenBLAS kernel and every thread split: none sums in a worse order.
  static func arithmeticBound(dtype: String, steps: Int) -> Double {
    let u = dtype == "float64" ? 0x1p-53 : 0x1p-24
    return 10 * Double(steps) * u * Double(4 * 800)
  }

  /// The bound for a parameter whose true gradient is zero (`structurallyZero`): Adam scales its
  /// rounding noise to unit size, so each step moves it by up to lr · |m̂/√v̂| in a direction the
  /// summation order sets, and two runs differ by up to twice the sum. |m̂/√v̂| ≤ (1−β1)/(1−β1ᵗ) ·
  /// √((1−β2ᵗ)/(1−β2)) / √(1 − β1²/β2) (Cauchy–Schwarz over the moments' sums); lr ≤ the peak.
  static func adamBound(peakLR: Double, beta2: Double, steps: Int) -> Double {
    let beta1 = 0.9
    let perStep = (1...max(steps, 1)).map { t -> Double in
      let t = Double(t)
      return (1 - beta1) / (1 - pow(beta1, t)) * ((1 - pow(beta2, t)) / (1 - beta2)).squareRoot()
        / (1 - beta1 * beta1 / beta2).squareRoot()
    }
    return 2 * peakLR * perStep.reduce(0, +)
  }

  /// The parameters whose true gradient is zero: the bottleneck MLPs' fc2 biases (softmax ignores
  /// a shift of all its logits; ModelTests.onlyTheBottleneckLogitBiasesHaveNoGradient checks that
  /// they, and only they, have none).
  static func structurallyZero(_ name: String) -> Bool {
    name.contains("spatial_downsamples.") && name.hasSuffix("mlp.fc2.bias")
  }

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
    guard alone.code == 0, threads.code == 0, two.code == 0 else { return }
    // equivalence.svfap: pretraining lr 0.05, fine-tuning the default 1e-3, batch 4 (peak = lr ·
    // 4 / 256); β2 0.95 and 0.999.
    let recipes: [String: (peakLR: Double, beta2: Double)] = [
      "pretrain": (0.05 * 4 / 256, 0.95), "finetune": (1e-3 * 4 / 256, 0.999),
    ]
    for kind in ["pretrain", "finetune"] {
      for step in 1...5 {
        let recipe = recipes[kind] ?? (0, 0)
        let arithmetic = Self.arithmeticBound(dtype: dtype, steps: step)
        let adam = Self.adamBound(peakLR: recipe.peakLR, beta2: recipe.beta2, steps: step)
        func bound(_ name: String, _ largest: Double) -> Double {
          Self.structurallyZero(name) ? adam : arithmetic * max(largest, adam / 2)
        }
        let one = "\(dir)/\(kind)-alone-s\(step)-r0.safetensors"
        let r0 = "\(dir)/\(kind)-mpi-s\(step)-r0.safetensors"
        let r1 = "\(dir)/\(kind)-mpi-s\(step)-r1.safetensors"
        let ranks = try compare(r0, r1) { _, _ in 1 }
        #expect(ranks.bitwise, "\(kind) step \(step): the two ranks' parameters differ")
        for (other, how) in [
          (r0, "2 ranks × batch 2"),
          (
            "\(dir)/\(kind)-threads-s\(step)-r0.safetensors", "2 threads × batch 2"
          ),
        ] {
          let split = try compare(one, other, bound: bound)
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
    ("rank-steps", "rank 1 does not train what rank 0 trains", "steps 8"),
    ("rank-0-only", "finished the script while", "every rank must make the same training calls"),
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
