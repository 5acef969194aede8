import Experiments
import Foundation
import Glibc
import Plot
import SVFAP
import Script
import Tensor
import Tools

/// A workbench session: the interpreter with every workbench command registered, the session's seed
/// stream, and the folder relative paths resolve against.
public final class Session {
  /// The language interpreter.
  public let interpreter = Interpreter()
  private var rng = SplitMix64(seed: 0)
  /// Figures written so far (numbers figures/fig-NNN.png).
  var figureCount = 0
  /// Whether output goes to a person at a terminal (progress bars); notebooks and tests leave it
  /// off.
  public var interactive = false
  /// The last figure's path (notebooks embed it).
  public var lastFigure: String?
  /// The last figure's layout (where its title, labels and panels are; tests check it).
  public var lastLayout: FigureLayout?
  /// Displays updated in place in a notebook (progress, live curves); nil at the REPL and in
  /// scripts.
  public var notebookDisplay: NotebookDisplay?
  /// The last figure drawn, as it was described to gnuplot (tests read its titles and scale).
  public var lastFigureDrawn: Figure?
  /// Whether figures are also drawn in the terminal (`set inline:`).
  public var inlineImages = TerminalImages.Setting.auto
  /// The terminal's image kind once probed (`.some(nil)`: it draws none).
  var probedImageKind: TerminalImages.Kind??
  /// Where terminal image bytes go (standard output).
  var writeTerminal: (Data) -> Void = { data in
    data.withUnsafeBytes { raw in
      var done = 0
      while done < raw.count {
        let n = Glibc.write(1, raw.baseAddress.map { $0 + done }, raw.count - done)
        if n <= 0 { break }
        done += n
      }
    }
  }
  /// Periodic checkpoints of training runs (the command-line program turns them on; nil = none).
  public var autosave: Autosave?
  /// The processes this session trains with (one alone, or the ranks of an `mpirun` run).
  public private(set) var collective: Collective = SingleProcess()
  /// Whether train/finetune split small models' batches over threads of this process (`set split:`).
  public var splitThreads = true
  /// Output that ranks other than 0 show too (nil alone: the interpreter's output).
  private var everyRankOutput: ((String) -> Void)?

  /// A new session (threads: both cores).
  public init() {
    Threads.count = min(2, max(1, Threads.available))
    MTCNNWeights.register()  // detector: "mtcnn" for face crops (weights read when first used)
    for c in WorkbenchCommands.all(self) { interpreter.register(c) }
  }

  /// Joins a run of several processes (the ranks `mpirun` started): every training run of the
  /// session trains with them; rank 0 alone shows output and writes files (other ranks only inside
  /// a command called with `on: "all"`, their lines prefixed with their rank); the cores of this
  /// machine are shared among its `localProcesses`.
  public func join(_ world: Collective, localProcesses: Int) {
    collective = world
    interpreter.rank = world.rank
    Threads.count = max(1, min(2, Threads.available) / max(localProcesses, 1))
    guard world.rank != 0 else { return }
    let base = interpreter.output, rank = world.rank
    let prefixed: (String) -> Void = { text in
      base(
        text.split(separator: "\n", omittingEmptySubsequences: false)
          .map { "[rank \(rank)] \($0)" }.joined(separator: "\n"))
    }
    everyRankOutput = prefixed
    interpreter.output = { [unowned interpreter] text in
      if interpreter.speaksHere { prefixed(text) }
    }
  }

  /// How figures are drawn in the terminal now, if at all: `on` uses the kind the environment
  /// names (else sixel); `auto` draws only at an interactive terminal that names a kind or answers
  /// the sixel probe within 100 ms (asked once per session).
  func inlineImageKind() -> TerminalImages.Kind? {
    let env = ProcessInfo.processInfo.environment
    switch inlineImages {
    case .off: return nil
    case .on: return TerminalImages.named(by: env) ?? .sixel
    case .auto:
      guard interactive, isatty(1) == 1 else { return nil }
      if let known = probedImageKind { return known }
      let kind = TerminalImages.named(by: env) ?? TerminalImages.probeControllingTerminal()
      probedImageKind = .some(kind)
      return kind
    }
  }

  /// Threads a training call of `config` at global `batch` uses (1: no split).
  func split(_ config: SVFAPConfig, batch: Int) -> Int {
    guard splitThreads else { return 1 }
    return SplitTraining.members(
      for: config, batch: batch, collective: collective,
      cores: min(Threads.count, Threads.available))
  }

  /// Says something every rank must say for itself (a row this rank could not read), prefixed
  /// with its rank when it is not rank 0; alone, the interpreter's output.
  public func sayOnEveryRank(_ text: String) {
    (everyRankOutput ?? interpreter.output)(text)
  }

  /// After a training step: the run's autosave when one is due (announced once per file, failures
  /// reported without stopping the run).
  func autosaveStep(_ run: TrainingRun, name: String, enabled: Bool, force: Bool = false) {
    guard enabled, collective.isRoot, let result = autosave?.stepped(run, name: name, force: force)
    else { return }
    switch result {
    case .success(let path):
      if announcedAutosaves.insert(path).inserted {
        interpreter.output("autosave: \(path) (resume \"\(path)\" after a crash)")
      }
    case .failure(let e):
      interpreter.output("autosave failed: \(e)")
    }
  }
  private var announcedAutosaves: Set<String> = []

  /// The next seed of the session's stream.
  func nextSeed() -> UInt64 { rng.next() >> 1 }

  /// Restarts the seed stream.
  func seed(_ s: UInt64) { rng = SplitMix64(seed: s) }

  /// The path argument `name` resolved, or a located I/O error when no such file exists.
  func existingFile(_ a: Arguments, _ name: String = "path") throws -> String {
    let path = resolve(try a.string(name))
    guard FileManager.default.fileExists(atPath: path) else {
      throw a.error("no file '\(path)'", io: true)
    }
    return path
  }

  /// A path relative to the interpreter's current folder.
  func resolve(_ path: String) -> String {
    let expanded = expandingTilde(path)
    return expanded.hasPrefix("/") ? expanded : interpreter.currentDirectory + "/" + expanded
  }

  /// The reference of every command as Markdown, generated from the declarations
  /// (docs/LANGUAGE.md).
  public func commandReference() -> String {
    var s = ""
    for (topic, commands) in interpreter.commandsByTopic {
      s += "### \(topic)\n\n"
      for c in commands {
        s += "#### `\(c.name)`\n\n```\n\(c.help)\n```\n\n"
      }
    }
    return s
  }
}
