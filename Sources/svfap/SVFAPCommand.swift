import ArgumentParser
import CReadline
import Datasets
import Distributed
import Foundation
import Media
import Plot
import SVFAP
import SafeFiles
import Script
import Tensor
import Tools
import Workbench

/// The `svfap` command line: benchmarks and model tools (the workbench REPL comes in later issues).
@main
struct SVFAPCommand: ParsableCommand {
  /// Denormals flushed everywhere (OpenBLAS's pool included) before anything runs, then the command.
  /// Output goes out line by line even into a file or pipe (a long run's log can be followed).
  static func main() {
    svfap_line_buffered_stdout()
    // A SVFAP_CPU this CPU cannot run is refused before any kernel runs (no illegal instruction).
    do { try KernelLevel.checkEnvironment() } catch {
      FileHandle.standardError.write(Data("svfap: \(error)\n".utf8))
      Foundation.exit(78)
    }
    Threads.prepareBLASAtStart()
    var command: ParsableCommand
    do { command = try parseAsRoot() } catch { exit(withError: error) }
    do { try command.run() } catch { exit(withError: error) }
  }

  static let configuration = CommandConfiguration(
    commandName: "svfap",
    abstract: "SVFAP Workbench: self-supervised facial-affect video models.",
    discussion: """
      With no subcommand: the interactive workbench on a terminal (readline prompt), or the commands read \
      from standard input when it is not a terminal. `svfap -e 'CMDS'` runs commands; `svfap run FILE` a script.
      Exit codes: 0 ok, 64 usage, 65 script error, 70 runtime error, 74 I/O error, 78 a SVFAP_CPU this \
      CPU cannot run, 130 interrupted.
      Environment: SVFAP_CPU=v3|v4 picks the engine's kernel build (default: the highest the CPU runs).
      """,
    subcommands: [
      Run.self, Bench.self, CheckFixture.self, Flops.self, Probe.self, FacesCommand.self,
      ClipCommand.self, Synth.self,
      DatasetCommand.self, NotebookCommand.self, Doc.self, Kernel.self, JupyterCommand.self,
      CPUCommand.self,
    ])

  @Option(name: .customShort("e"), help: "Run these commands and exit.") var commands: String?
  @Flag(help: "Continue after an error (batch modes); the exit code reports the worst error.")
  var keepGoing = false
  @Flag(help: "Start with the example face clip loaded as `clip` (the README's first command).")
  var demo = false

  func run() throws {
    let session = Session()
    session.autosave = Autosave(root: Autosave.defaultRoot)
    Interrupt.installHandler()
    if demo {
      let path = "examples/media/single_face.mp4"
      if FileManager.default.fileExists(atPath: path) {
        session.interpreter.output = { _ in }
        _ = try? session.interpreter.run(
          "clip = load \"\(path)\" crop: \"face\" align: true;", file: "<demo>")
        // The shipped pretrained weights when they are there (a fresh model otherwise).
        let pretrained =
          (try? session.interpreter.run(
            "m = model \"svfap-tiny\" seed: 1 pretrained: true;", file: "<demo>")) != nil
        if !pretrained {
          _ = try? session.interpreter.run("m = model \"svfap-tiny\" seed: 1;", file: "<demo>")
        }
        session.interpreter.output = { print($0) }
        print(
          """
          Loaded `clip` (16 aligned face-cropped frames of \(path)) and `m` (svfap-tiny\(pretrained ? ", pretrained" : "")). Try: \
          show clip · loss m clip · show reconstruct(m, clip) · train m clip steps: 20
          """
        )
      }
    }
    if let commands {
      let world = try ProcessGroup.join(session)
      let code = Batch.run(commands, file: "<-e>", session: session, keepGoing: keepGoing)
      ProcessGroup.leave(world, code: code)
      throw ExitCode(code)
    }
    if MPIWorld.isLaunchedByMPI {
      printError(
        """
        svfap: under mpirun the prompt and standard input would reach rank 0 only; run a script \
        with `mpirun -n N svfap run FILE` (or `svfap -e 'COMMANDS'`)
        """)
      throw ExitCode(64)
    }
    if isatty(0) == 1 {
      let autosaves =
        session.autosave.map {
          "\nTraining runs autosave to \($0.folder) (set autosave: false to stop)."
        } ?? ""
      throw ExitCode(REPL.run(session: session, banner: Self.banner + autosaves))
    }
    let input = String(
      decoding: (try? FileHandle.standardInput.readToEnd()) ?? Data(), as: UTF8.self)
    throw ExitCode(Batch.run(input, file: "<stdin>", session: session, keepGoing: keepGoing))
  }

  static let banner = """
    SVFAP Workbench — self-supervised facial-affect video models (TPSBT, paper-faithful).
    Presets: \(SVFAPConfig.presetNames.joined(separator: ", ")).   help · help NAME · help syntax · Ctrl-D to leave
    Try:  m = model "svfap-tiny"
          clip = noise_clip(batch: 2)
          for r in [0.75, 0.9, 0.95] { print r, loss(m, clip, mask: tube(r, seed: 1)) }
    """
}

/// `svfap run FILE [ARGS…]`: run a script; ARGS are visible to it as the list `args`.
struct Run: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Run a script file; its arguments are the list `args`.",
    discussion: """
      The script is checked before it runs: its syntax, and every command call against the \
      command (an option it does not have or given twice, too many positional arguments, an \
      unknown command). Problems are printed with their file:line:column and nothing runs (exit \
      65), unless --keep-going.
      """)
  @ArgumentParser.Argument(help: "The script (.svfap).") var file: String
  @ArgumentParser.Argument(
    parsing: .captureForPassthrough,
    help: "Arguments for the script (after `--`, every word is the script's, --keep-going too).")
  var args: [String] = []
  @Flag(help: "Continue after an error; the exit code reports the worst error.") var keepGoing =
    false

  /// `svfap run`'s own options among the words after the file (`--keep-going`, as README writes
  /// it) and the script's arguments: everything after a `--` is the script's.
  static func split(_ words: [String]) -> (keepGoing: Bool, scriptArgs: [String]) {
    var keep = false, out: [String] = []
    var rest = words[...]
    while let w = rest.popFirst() {
      if w == "--" {
        out += rest
        break
      }
      if w == "--keep-going" { keep = true } else { out.append(w) }
    }
    return (keep, out)
  }

  func run() throws {
    let session = Session()
    session.autosave = Autosave(root: Autosave.defaultRoot)
    Interrupt.installHandler()
    let text: String
    do { text = try SafeFile.readText(file) } catch {
      FileHandle.standardError.write(Data("error: cannot read the script \(error)\n".utf8))
      throw ExitCode(74)
    }
    let (ownKeepGoing, scriptArgs) = Self.split(args)
    let keepGoing = keepGoing || ownKeepGoing
    session.interpreter.globals["args"] = .list(scriptArgs.map { .string($0) })
    session.interpreter.currentDirectory =
      URL(fileURLWithPath: file).deletingLastPathComponent().path
    // Checked before it runs: an option misspelt in a late line stops the script before it loads
    // anything, not after an hour of training.
    let problems = session.interpreter.check(text, file: file)
    for p in problems { FileHandle.standardError.write(Data("\(p)\n".utf8)) }
    if !problems.isEmpty, !keepGoing {
      FileHandle.standardError.write(
        Data(
          """
          svfap run: \(problems.count) problem(s) found before running \(file); nothing was run \
          (--keep-going runs it anyway)\n
          """.utf8))
      throw ExitCode(65)
    }
    let world = try ProcessGroup.join(session)
    let code = Batch.run(text, file: file, session: session, keepGoing: keepGoing)
    ProcessGroup.leave(world, code: code)
    throw ExitCode(code)
  }
}

/// `svfap doc commands`: the command reference as Markdown, generated from the declarations.
struct Doc: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Print the language's command reference (Markdown), generated from the command declarations.")
  func run() throws { print(Session().commandReference(), terminator: "") }
}

/// `svfap cpu`: the kernel path that runs and the CPU it runs on.
struct CPUCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "cpu",
    abstract: """
      Print which build of the engine's kernels runs (x86-64-v3 or x86-64-v4), why (SVFAP_CPU or \
      the CPU's level) and the CPU's model.
      """)
  func run() throws { print(KernelLevel.summary) }
}

/// `svfap bench …`: figures as JSON lines.
struct Bench: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Print benchmark figures as JSON lines.",
    subcommands: [
      Ops.self, Model.self, Memory.self, MediaBench.self, AugmentBench.self, PlotBench.self,
      DistributedBench.self,
    ])

  /// `svfap bench ops`.
  struct Ops: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: """
        Matmul against raw sgemm on TPSBT-B shapes; the fused attention's GFLOP/s; ns/element of \
        LayerNorm, GELU, softmax, the MSE, AdamW and ns/value of the pretraining target (one thread). The first line \
        names the kernel path that ran (x86-64-v3 or v4, SVFAP_CPU) and the CPU.
        """)
    @Option(help: "Threads for the matmul and attention figures.") var threads = 2
    @Option(help: "Timed runs per figure (median reported).") var runs = 20

    func run() throws {
      print(OpsBenchmark.kernelLine)
      try OpsBenchmark.run(threads: threads, runs: runs) { print($0.json) }
    }
  }
}

extension Bench {
  /// `svfap bench model`.
  struct Model: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract:
        """
        Time a model step on random 16x160x160 clips: {median_ms, min_ms, gflop_per_s, \
        peak_rss_mb, split} (with --profile also profile_ms, sgemm_ceiling_ms, of_ceiling, \
        cold_ceiling_ms, of_cold_ceiling, attention_ceiling_ms); a \
        training step is the one train/finetune run (see --split).
        """
    )
    @Option(help: "Preset: \(SVFAPConfig.presetNames.joined(separator: ", ")).") var preset =
      "svfap-base"
    @Option(help: "The model to time.") var task = ModelTask.finetune
    @Option(help: "forward (no graph) or train (forward + backward).") var mode = BenchmarkMode
      .forward
    @Option(
      help: "Clips per step (refused when the step's estimated memory exceeds what is available)."
    ) var batch = 1
    @Option(help: "Threads (BLAS and element-wise kernels).") var threads = 2
    @Option(help: "Timed steps after one warm-up step (median reported).") var runs = 5
    @Option(help: "Mask ratio for --task pretrain.") var maskRatio = 0.9
    @Option(
      help: """
        Training steps: threads that split the batch, each with a model replica and one kernel \
        thread, averaging gradients, at most one per core (default: as train/finetune do — 2 for \
        svfap-nano/svfap-tiny on an even batch, else 1; 1: off).
        """)
    var split: Int?
    @Flag(
      help: ArgumentHelp(
        "Add where a step's time goes by kind of work ("
          + ModelBenchmark.profileKinds.joined(separator: ", ")
          + "), mean ms per step (per thread when split), and the step's own sgemm calls "
          + "replayed through raw sgemm after each timed step (sgemm_ceiling_ms; of_ceiling: "
          + "its median share of the step's time, 1 = the step runs at sgemm's rate on its "
          + "own shapes; cold_ceiling_ms, of_cold_ceiling: the same calls on operands that "
          + "come from memory, not cache, as a large model's weights do, unless short of "
          + "memory; attention_ceiling_ms: the attention's part of the ceiling)."))
    var profile = false

    func run() throws {
      let members =
        try split
        ?? ModelBenchmark.trainingSplit(preset: preset, mode: mode, batch: batch, threads: threads)
      let r = try ModelBenchmark.run(
        preset: preset, task: task, mode: mode, batch: batch, threads: threads, runs: runs,
        maskRatio: maskRatio, profile: profile, split: members)
      print(r.json)
    }
  }

  /// `svfap bench memory`.
  struct Memory: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract:
        """
        RSS while repeating forward+backward of 3 Transformer blocks (C 512, 800 tokens): flat \
        means no churn.
        """
    )
    @Option(help: "Steps to repeat.") var steps = 1000
    @Option(help: "Threads.") var threads = 2

    func run() throws {
      Threads.count = threads
      try ModelBenchmark.memory(steps: steps) { step, rss in
        print("{\"name\": \"rss after step \(step)\", \"value\": \(r1(rss)), \"unit\": \"MB\"}")
      }
      print(
        "{\"name\": \"peak rss\", \"value\": \(r1(ModelBenchmark.peakRssMB())), \"unit\": \"MB\"}")
    }
  }
}

/// `svfap check-fixture FILE…`: recompute golden fixtures of the authors' PyTorch code and compare.
struct CheckFixture: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "check-fixture",
    abstract:
      """
      Recompute fixtures (safetensors + JSON sidecar) and compare outputs, loss and every \
      gradient.
      """,
    discussion: """
      fp32 passes when max|ours-ref| <= 1e-4 * max|ref| per tensor, fp64 when <= 1e-9 * max|ref|; the \
      structurally zero spatial_downsamples.*.mlp.fc2.bias gradients are compared absolutely against the \
      fc2.weight gradient's scale. Training fixtures (train_finetune, train_pretrain) replay several AdamW \
      steps of the authors' recipe with our trainers and compare every parameter after the recorded steps, \
      each step's lr and gradient norm, and every parameter's lr scale and weight-decay flag, all within \
      1e-7 * max|ref| in fp64 (Adam turns rounding-level gradients into lr-sized moves; a recipe error \
      moves weights by >= 2e-5). Fixtures of the authors' released pretraining code (pretrain_orig; \
      pretrain_ctxfix, its context fixed) run that forward (the model's variant "released" / \
      "released-context-fixed"); a fixture of an unknown variant fails unless --skip-unsupported.
      """)
  @ArgumentParser.Argument(help: "Fixture .safetensors files.") var files: [String]
  @Option(help: "Write every computed tensor to this safetensors file (one input file only).")
  var dump: String?
  @Flag(help: "Exit 0 for fixtures of unknown variants, reporting them as skipped.")
  var skipUnsupported = false
  @Flag(help: "Print every tensor, not just the worst and the failures.") var verbose = false

  func run() throws {
    if dump != nil && files.count != 1 { throw ValidationError("--dump takes exactly one fixture") }
    var failed = 0
    for file in files {
      let r: FixtureCheck.Report
      do { r = try FixtureCheck.check(path: file, dump: dump) } catch {
        print("ERROR \(file): \(error)")
        failed += 1
        continue
      }
      if let why = r.unsupported {
        print("SKIP \(file): \(why)")
        if !skipUnsupported { failed += 1 }
        continue
      }
      for row in r.rows where verbose || !row.ok {
        print(
          String(
            format: "  %@ %-60@ max|err| %.3e  scale %.3e%@", row.ok ? "ok  " : "FAIL", row.name,
            row.maxError, row.scale, row.absolute ? " (absolute)" : ""))
      }
      if let worst = r.rows.max(by: {
        $0.maxError / max($0.scale, 1e-300) < $1.maxError / max($1.scale, 1e-300)
      }) {
        print(
          """
          \(r.ok ? "PASS" : "FAIL") \(file): \(r.rows.count) tensors, worst \(worst.name) \
          relative error \(String(format: "%.2e", worst.maxError / max(worst.scale, 1e-300)))
          """
        )
      }
      if !r.notInFixture.isEmpty {
        print(
          """
            not in the fixture, not compared: \(r.notInFixture.count) tensors \
          (\(r.notInFixture.prefix(3).joined(separator: ", "))…)
          """
        )
      }
      if !r.ok { failed += 1 }
    }
    if failed > 0 { throw ExitCode(1) }
  }
}

/// `svfap flops PRESET`: parameters and multiply-adds of one 16x160x160 clip.
struct Flops: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Parameters (M) and GFLOPs (1e9 multiply-adds, as the paper counts) for one 16x160x160 clip.")
  @ArgumentParser.Argument(help: "A preset: \(SVFAPConfig.presetNames.joined(separator: ", ")).")
  var preset: String
  @Option(help: "The model to count.") var task = ModelTask.finetune
  @Option(help: "Mask ratio for --task pretrain.") var maskRatio = 0.9

  func run() throws {
    let cfg = try SVFAPConfig.preset(preset)
    switch task {
    case .finetune:
      let m = try FinetuneModel(cfg)
      print(
        String(
          format: "%@ finetune: %.2f M parameters, %.2f GFLOPs", preset,
          Double(m.parameterCount) / 1e6, FLOPs.finetune(cfg) / 1e9))
    case .pretrain:
      let m = try PretrainModel(cfg)
      print(
        String(
          format:
            """
            %@ pretrain (mask %.2f): %.2f M parameters, %.2f GFLOPs (paper's count; %.2f as \
            computed here, embedding only the visible tubelets)
            """,
          preset,
          maskRatio, Double(m.parameterCount) / 1e6,
          FLOPs.pretrain(cfg, maskRatio: maskRatio) / 1e9,
          FLOPs.pretrain(cfg, maskRatio: maskRatio, embeddedTokensOnly: true) / 1e9))
    }
  }
}

/// `svfap probe FILE`: the video's facts as JSON.
struct Probe: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Print a video's (or frame folder's) facts as JSON.")
  @ArgumentParser.Argument(help: "A video file or a folder of frames.") var file: String

  func run() throws {
    try exitingOnMediaError {
      let info = try VideoReader(path: file).info
      let enc = JSONEncoder()
      enc.outputFormatting = [.sortedKeys]
      print(String(decoding: try enc.encode(info), as: UTF8.self))
    }
  }
}

/// `svfap faces FILE [--frame N]`: MTCNN's faces as JSON lines.
struct FacesCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "faces",
    abstract:
      """
      Print the faces MTCNN finds in an image or a video's frame: one JSON line per face \
      {box: [x0, y0, x1, y1], score, landmarks: [[x, y] x 5]} in source pixels, largest first.
      """)
  @ArgumentParser.Argument(help: "An image, a video file or a folder of frames.") var file: String
  @Option(help: "The frame (0-based decode index; an image is frame 0).") var frame = 0

  func run() throws {
    do {
      let result = try FaceSearch.faces(in: file, frame: frame)
      for f in result.faces {
        let data = try JSONSerialization.data(
          withJSONObject: FaceSearch.json(f), options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
      }
    } catch let e as MediaError {
      printError("svfap faces: \(e)")
      throw ExitCode(74)
    } catch {
      printError("svfap faces: \(error)")
      throw ExitCode(66)
    }
  }
}

/// `svfap clip FILE -o OUT.safetensors`: a normalized clip with its frame indices and crop box.
struct ClipCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "clip",
    abstract: "Write a normalized clip (1,3,T,H,W), its frame indices and crop box as safetensors.")
  @ArgumentParser.Argument(help: "A video file or a folder of frames.") var file: String
  @Option(help: "Frames per clip.") var frames = 16
  @Option(help: "Temporal stride.") var stride = 4
  @Option(help: "Output height and width.") var size = 160
  @Option(help: "face, center or none.") var crop = "center"
  @Option(help: "First frame (default: centred).") var start: Int?
  @Option(help: "With --crop face: the face detector, mtcnn or haar (as load's detector:).")
  var detector = FaceDetectors.Kind.mtcnn
  @Flag(
    help: "With --crop face: warp each frame so its five landmarks sit on the template (mtcnn).")
  var align = false
  @Option(
    help: "With --crop face and several faces: largest, center or N (the N-th largest, 0-based).")
  var face = "largest"
  @Option(name: .shortAndLong, help: "Output .safetensors file.") var output: String

  func run() throws {
    var spec = ClipSpec()
    (spec.frames, spec.stride, spec.size, spec.align) = (frames, stride, size, align)
    guard let c = ClipSpec.Crop(rawValue: crop) else {
      throw ValidationError("--crop must be face, center or none")
    }
    guard !align || c == .face else { throw ValidationError("--align needs --crop face") }
    guard let choice = FaceChoice(face) else {
      throw ValidationError("--face is largest, center or a face's number 0…999, got \(face)")
    }
    spec.face = choice
    (spec.crop, spec.detector) = (c, detector)
    MTCNNWeights.register()
    try exitingOnMediaError {
      let clip = try VideoReader(path: file).clip(spec, start: start)
      try SafeTensorsFile.write(
        [
          "clip": clip.tensor,
          "frame_indices": try Tensor(
            clip.frameIndices.map(Double.init), shape: [clip.frameIndices.count]),
          "crop_box": try Tensor(clip.cropBox.map(Double.init), shape: [4]),
        ],
        metadata: ["source": file, "crop": clip.cropName, "detector": clip.detector ?? "none"],
        to: output)
      print("wrote \(output): clip \(clip.tensor.shape), frames \(clip.frameIndices)")
    }
  }
}

/// `svfap synth --out DIR`: a synthetic facial-expression dataset written as real video files.
struct Synth: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract:
      """
      Render procedural talking faces (7 expressions, valence/arousal, Big Five traits) to \
      videos plus manifests.
      """
  )
  @Option(help: "Output folder.") var out: String
  @Option(help: "Number of identities.") var identities = 4
  @Option(help: "Clips per identity and expression.") var clips = 2
  @Option(help: "Frames per video.") var frames = 64
  @Option(help: "Frame size in pixels (even).") var size = 160
  @Option(help: "Random seed.") var seed: UInt64 = 0
  @Option(help: "h264 (.mp4), hevc (.mp4), mpeg4 (.avi) or vp8 (.webm).") var codec = "h264"
  @Option(help: "Identities held out as the test split (adds a split column; 0 = none).")
  var testIdentities = 0
  @Option(help: "Amplitude of the per-pixel noise, 0...1 of the pixel range.") var noise = 0.04

  func run() throws {
    try exitingOnMediaError {
      let n = try SyntheticFaces.writeDataset(
        to: out, identities: identities, clipsPerExpression: clips, frames: frames, size: size,
        seed: seed, codec: codec, testIdentities: testIdentities,
        noise: noise
      ) { done, total in
        if done % 10 == 0 || done == total {
          FileHandle.standardError.write(Data("\r\(done)/\(total) videos".utf8))
        }
      }
      print(
        """
        \nwrote \(n) videos and unlabeled.csv, expressions.csv, dimensional.csv, traits.csv to \
        \(out)
        """
      )
    }
  }
}

extension Bench {
  /// `svfap bench augment`.
  struct AugmentBench: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "augment",
      abstract:
        "Milliseconds per 16x160x160 clip of each part of the authors' fine-tuning augmentation.")
    @Option(help: "A video file.") var video = "examples/media/single_face.mp4"
    @Option(help: "Timed runs per figure (median).") var runs = 5

    func validate() throws { try OptionCheck.check("runs", runs, in: 1...10_000) }

    func run() throws {
      Threads.count = 1
      for f in try AugmentBenchmark.run(video: video, runs: runs) { print(f.json) }
    }
  }

  /// `svfap bench media`.
  struct MediaBench: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "media",
      abstract:
        """
        Clips/s of decode + sample + crop of one 16x160 clip (stride 4) per example file: ours \
        (resize, face) beside PyAV (resize), same files and frames.
        """
    )
    @ArgumentParser.Argument(help: "Video files (default: examples/media/*.mp4 and *.mov).")
    var files: [String] = []
    @Option(
      help:
        "Timed runs per figure (median); the randomly started figures (track cached, prepared) are the rate over 4 × runs clips."
    ) var runs = 5

    func run() throws {
      var list = files
      if list.isEmpty {
        let dir = "examples/media"
        list = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter {
          $0.hasSuffix(".mp4") || $0.hasSuffix(".mov")
        }.sorted().map {
          dir + "/" + $0
        }
      }
      guard !list.isEmpty else {
        throw ValidationError("no video files (run scripts/fetch-examples)")
      }
      Threads.count = 2
      let figures = try MediaBenchmark.run(files: list, runs: runs)
      // The PyAV baseline in the same run, when the `av` package is installed.
      var baseline: [String: Double] = [:]
      let jobs = zip(list, figures).map { path, f in
        [
          "path": path, "file": f.file, "indices": f.indices, "w": f.resized.0, "h": f.resized.1,
          "runs": runs,
        ] as [String: Any]
      }
      if let json = try? JSONSerialization.data(withJSONObject: jobs) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [
          "python3", "-c", MediaBenchmark.pyavScript, String(decoding: json, as: UTF8.self),
        ]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        if (try? p.run()) != nil {
          let data = (try? out.fileHandleForReading.readToEnd()) ?? Data()
          p.waitUntilExit()
          baseline = (try? JSONSerialization.jsonObject(with: data)) as? [String: Double] ?? [:]
        }
      }
      if baseline.isEmpty {
        FileHandle.standardError.write(
          Data("note: PyAV baseline skipped (pip install av to measure it)\n".utf8))
      }
      for f in figures {
        print(
          """
          {\"name\": \"media/ours resize \(f.file)\", \"value\": \(r1(f.resizeClipsPerSecond)), \
          \"unit\": \"clips/s\"}
          """
        )
        if let b = baseline[f.file] {
          print(
            """
            {\"name\": \"media/pyav resize \(f.file)\", \"value\": \(r1(b)), \"unit\": \
            \"clips/s\"}
            """
          )
          print(
            """
            {\"name\": \"media/ours over pyav \(f.file)\", \"value\": \
            \(r1(f.resizeClipsPerSecond / b * 100) ), \"unit\": \"percent\"}
            """
          )
        }
        print(
          """
          {\"name\": \"media/ours face crop \(f.file)\", \"value\": \
          \(r1(f.faceClipsPerSecond)), \"unit\": \"clips/s\"}
          """
        )
        print(
          """
          {\"name\": \"media/ours face crop, track cached \(f.file)\", \"value\": \
          \(r1(f.trackedFaceClipsPerSecond)), \"unit\": \"clips/s\"}
          """
        )
        if let mtcnn = f.mtcnnFaceClipsPerSecond {
          print(
            """
            {\"name\": \"media/ours face crop, MTCNN \(f.file)\", \"value\": \(r1(mtcnn)), \
            \"unit\": \"clips/s\"}
            """
          )
        }
        if let aligned = f.alignedTrackedClipsPerSecond {
          print(
            """
            {\"name\": \"media/ours aligned face crop, MTCNN track cached \(f.file)\", \"value\": \
            \(r1(aligned)), \"unit\": \"clips/s\"}
            """
          )
        }
        if let prepared = f.preparedClipsPerSecond {
          print(
            """
            {\"name\": \"media/ours face crop, prepared (dataset prepare --crops) \(f.file)\", \
            \"value\": \(r1(prepared)), \"unit\": \"clips/s\"}
            """
          )
        }
      }
      // The path train streams: the face videos through the loader's two workers.
      let faces = zip(list, figures).filter { $0.1.preparedClipsPerSecond != nil }.map(\.0)
      if !faces.isEmpty {
        print(
          """
          {\"name\": \"media/streamed face crops (train's loader: 2 workers, tracks cached, face \
          checks) over \(faces.count) face videos\", \"value\": \
          \(r1(try MediaBenchmark.streamed(files: faces))), \"unit\": \"clips/s\"}
          """)
      }
    }
  }
}

/// `svfap dataset NAME ROOT -o manifest.csv`: a benchmark's official layout as a manifest.
struct DatasetCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "dataset",
    abstract:
      """
      Write the manifest of a benchmark's official layout (docs/DATASETS.md): \
      \(DatasetReaders.names.joined(separator: ", ")); `dataset prepare MANIFEST` computes its \
      face tracks into the face-track cache, and with --crops DIR writes every video face-cropped \
      (size × size) into DIR with a manifest of them.
      """
  )
  @ArgumentParser.Argument(help: "The reader, or `prepare`.") var name: String
  @ArgumentParser.Argument(help: "The dataset's root folder (with `prepare`: the manifest).")
  var root: String
  @Option(name: .shortAndLong, help: "Output manifest (.csv); default: print it.") var output:
    String?
  @Option(
    help:
      """
      With prepare: also write each video face-cropped into this folder, and the manifest of the \
      crops (MANIFEST-faces.csv) beside them.
      """)
  var crops: String?
  @Option(help: "With prepare --crops: the crops' side in pixels (even, 32...1024).") var size = 160
  @Option(
    help:
      """
      With prepare: the face detector of the tracks, mtcnn or haar (as load's and train's \
      detector:, whose tracks these are).
      """)
  var detector = FaceDetectors.Kind.mtcnn

  func validate() throws {
    guard (32...1024).contains(size), size % 2 == 0 else {
      throw ValidationError("--size must be an even number of pixels in 32...1024, got \(size)")
    }
    if crops != nil && name != "prepare" {
      throw ValidationError("--crops goes with `dataset prepare MANIFEST`")
    }
  }

  func run() throws {
    if name == "prepare" {
      return try exitingOnMediaError {
        try DatasetPrepare.run(
          manifest: root, crops: crops, size: size, detector: detector)
      }
    }
    try exitingOnMediaError {
      let m = try DatasetReaders.read(name, root: root)
      if let output {
        try m.write(to: output)
        print("wrote \(m.rows.count) rows to \(output)")
      } else {
        print(m.csv, terminator: "")
      }
    }
  }
}

extension Bench {
  /// `svfap bench plot`.
  struct PlotBench: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "plot",
      abstract:
        """
        Milliseconds per PNG figure with the persistent gnuplot (first figure and median of the \
        rest).
        """
    )
    @Option(help: "Figures to time.") var runs = 20

    func run() throws {
      let xs = (0..<200).map(Double.init)
      let fig = Figure(
        title: "bench",
        panels: [
          .curves(
            series: [(name: "loss", x: xs, y: xs.map { 1 / (1 + $0) })], xLabel: "step",
            yLabel: "loss", logY: false, title: "loss")
        ], columns: 1,
        panelWidth: 480, panelHeight: 320)
      let path = FileManager.default.temporaryDirectory.appendingPathComponent(
        "svfap-bench-plot.png"
      ).path
      let g = Gnuplot()
      var t0 = monotonicSeconds()
      try g.render(fig, to: path)
      let first = (monotonicSeconds() - t0) * 1000
      var times: [Double] = []
      for _ in 0..<max(runs, 1) {
        t0 = monotonicSeconds()
        try g.render(fig, to: path)
        times.append((monotonicSeconds() - t0) * 1000)
      }
      times.sort()
      print("{\"name\": \"plot/first figure\", \"value\": \(r1(first)), \"unit\": \"ms\"}")
      print(
        """
        {\"name\": \"plot/figure (median)\", \"value\": \(r1(times[times.count / 2])), \
        \"unit\": \"ms\"}
        """
      )
    }
  }
}

/// `svfap notebook run|html`.
struct NotebookCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "notebook",
    abstract: "Execute notebooks (.ipynb or # %% scripts) and export them to HTML.",
    subcommands: [NotebookRun.self, NotebookHTML.self])
}

/// `svfap notebook run IN [-o OUT] [--allow-errors] [-p NAME=VALUE …]`.
struct NotebookRun: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "run",
    abstract:
      """
      Execute the code cells in one session and write their outputs (text, figures, errors) \
      into the notebook, rewritten (atomically) after every cell: a killed run leaves every cell \
      that finished.
      """
  )
  @ArgumentParser.Argument(help: "An .ipynb or a percent-format script (# %% cells).") var input:
    String
  @Option(name: .shortAndLong, help: "Output .ipynb (default: overwrite the input .ipynb).")
  var output: String?
  @Flag(help: "Run every cell even after an error (exit 0).") var allowErrors = false
  @Option(name: .short, help: "NAME=VALUE parameters, assigned after the cell tagged 'parameters'.")
  var parameter: [String] = []
  @Option(help: "Interrupt a cell that runs longer than this many seconds (marked CellTimeout).")
  var cellTimeout: Double?

  func validate() throws {
    if let t = cellTimeout { try OptionCheck.check("cell-timeout", t, in: 0.01...1e7) }
  }

  func run() throws {
    Interrupt.installHandler()
    let nb: [String: Any]
    do { nb = try Notebook.load(input) } catch {
      FileHandle.standardError.write(Data("error: \(error)\n".utf8))
      // A file that cannot be read is an I/O error (74); one that is not a notebook, a data error
      // (65).
      throw ExitCode(FileManager.default.isReadableFile(atPath: input) ? 65 : 74)
    }
    let params = parameter.compactMap { p -> (String, String)? in
      guard let eq = p.firstIndex(of: "=") else { return nil }
      return (String(p[..<eq]), String(p[p.index(after: eq)...]))
    }
    let dir = URL(fileURLWithPath: input).deletingLastPathComponent().path
    let out =
      output
      ?? (input.hasSuffix(".ipynb") ? input : (input as NSString).deletingPathExtension + ".ipynb")
    // Written after every cell (atomically), so a process killed mid-run leaves every cell that
    // finished; a failed write is reported once and the run goes on to the final write.
    var writeError: Error?
    let (done, ok) = Notebook.execute(
      nb, directory: dir, allowErrors: allowErrors, parameters: params, cellTimeout: cellTimeout
    ) { partial in
      guard writeError == nil else { return }
      do { try Notebook.write(partial, to: out) } catch {
        writeError = error
        FileHandle.standardError.write(Data("error: \(error) (the run goes on)\n".utf8))
      }
    }
    do { try Notebook.write(done, to: out) } catch {
      FileHandle.standardError.write(Data("error: \(error)\n".utf8))
      throw ExitCode(74)
    }
    let interrupted = ((done["cells"] as? [[String: Any]]) ?? []).contains { cell in
      ((cell["outputs"] as? [[String: Any]]) ?? []).contains {
        $0["ename"] as? String == "KeyboardInterrupt"
      }
    }
    print("wrote \(out)\(interrupted ? " (interrupted by Ctrl-C)" : ok ? "" : " (with errors)")")
    if interrupted { throw ExitCode(130) }
    if !ok && !allowErrors { throw ExitCode(70) }
  }
}

/// `svfap notebook html IN -o OUT.html`.
struct NotebookHTML: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "html",
    abstract: "Export a notebook to one self-contained HTML file (figures embedded).")
  @ArgumentParser.Argument(help: "An .ipynb.") var input: String
  @Option(name: .shortAndLong, help: "Output .html.") var output: String

  func run() throws {
    let nb = try Notebook.load(input)
    try Notebook.html(nb, title: (input as NSString).lastPathComponent).write(
      toFile: output, atomically: true, encoding: .utf8)
    print("wrote \(output)")
  }
}

/// Runs `body`; a video error is printed to stderr and becomes exit code 74 (I/O error).
func exitingOnMediaError(_ body: () throws -> Void) throws {
  do { try body() } catch let e as MediaError {
    FileHandle.standardError.write(Data("error: \(e)\n".utf8))
    throw ExitCode(74)
  } catch let e as SafeFileError {
    // A path that cannot be written: 73 (EX_CANTCREAT); one that cannot be read: 74 (EX_IOERR).
    FileHandle.standardError.write(Data("error: \(e)\n".utf8))
    throw ExitCode(e.writing ? 73 : 74)
  } catch let e as SVFAPError {
    FileHandle.standardError.write(Data("error: \(e)\n".utf8))
    throw ExitCode(74)
  }
}
