import Foundation
import Glibc

#if canImport(SafeFiles)  // scripts/fuzz compiles Plot and SafeFiles as one module
  import SafeFiles
#endif

/// One long-lived gnuplot process (Debian's gnuplot-nox) that renders figures to PNG, SVG or text;
/// started on first use, restarted when it has died (the failing figure reports gnuplot's message).
public final class Gnuplot: @unchecked Sendable {
  /// Output kinds.
  public enum Terminal: String, Sendable { case png, svg, pdf, sixel, dumb }

  private var process: Process?
  private var input: FileHandle?
  private var errors: FileHandle?
  private var pending = Data()
  private let lock = NSLock()
  /// Restarts so far (a dead gnuplot is restarted on the next figure).
  public private(set) var restarts = 0

  /// The session-wide instance.
  public static let shared = Gnuplot()

  /// A new (not yet started) gnuplot.
  public init() { signal(SIGPIPE, SIG_IGN) }

  deinit {
    try? input?.close()
    if let p = process, p.isRunning { Glibc.kill(p.processIdentifier, SIGKILL) }
  }

  private func start() throws {
    guard
      let exe = ["/usr/bin/gnuplot", "/usr/local/bin/gnuplot"].first(where: {
        FileManager.default.isExecutableFile(atPath: $0)
      })
    else {
      throw PlotError(
        "gnuplot is not installed: run scripts/setup (or apt-get install gnuplot-nox)")
    }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: exe)
    let inPipe = Pipe(), errPipe = Pipe()
    p.standardInput = inPipe
    p.standardError = errPipe
    p.standardOutput = errPipe
    try p.run()
    process = p
    input = inPipe.fileHandleForWriting
    errors = errPipe.fileHandleForReading
    pending = Data()
  }

  /// Kills the process (tests use it to check the restart).
  public func kill() {
    lock.lock()
    defer { lock.unlock() }
    guard let p = process, p.isRunning else { return }
    try? input?.close()
    Glibc.kill(p.processIdentifier, SIGKILL)
    for _ in 0..<2000 where p.isRunning { usleep(1000) }
  }

  /// Whether the process is alive.
  public var isRunning: Bool { process?.isRunning ?? false }

  /// Sends commands (and inline binary data) and waits until gnuplot has processed them; gnuplot's
  /// error messages become a thrown error.
  func run(_ chunks: [GnuplotChunk]) throws {
    lock.lock()
    defer { lock.unlock() }
    if !(process?.isRunning ?? false) {
      if process != nil { restarts += 1 }
      try start()
    }
    let marker = "SVFAP_DONE_\(UInt64.random(in: 0...UInt64.max))"
    guard let input, let errors else { throw PlotError("gnuplot did not start") }
    do {
      for c in chunks { try input.write(contentsOf: c.bytes) }
      try input.write(contentsOf: Data("\nprint \"\(marker)\"\n".utf8))
    } catch {
      process?.terminate()
      throw PlotError("gnuplot stopped while receiving a figure; it will be restarted")
    }
    // Read gnuplot's stderr up to the marker.
    var text = ""
    while true {
      let d: Data
      do { d = try Self.read(errors.fileDescriptor, timeout: Self.answerTimeout) } catch let e
        as PlotError
      {
        process?.terminate()  // restarted on the next figure
        throw e
      }
      if d.isEmpty {
        throw PlotError("gnuplot exited: \(text.trimmingCharacters(in: .whitespacesAndNewlines))")
      }
      text += String(decoding: d, as: UTF8.self)
      if let r = text.range(of: marker) {
        text = String(text[..<r.lowerBound])
        break
      }
    }
    let messages = text.split(separator: "\n").filter {
      !$0.trimmingCharacters(in: .whitespaces).isEmpty
    }
    let failing = ["error", "cannot", "can't", "invalid", "undefined", "unexpected", "bad "]
    if messages.contains(where: { m in failing.contains { m.lowercased().contains($0) } }) {
      throw PlotError("gnuplot: " + messages.joined(separator: "\n"))
    }
  }

  /// How long gnuplot may take to answer one figure before it counts as hung.
  static let answerTimeout = 120.0

  /// The next bytes gnuplot wrote (empty at its end of output). POSIX poll/read rather than
  /// `FileHandle.availableData`, which traps on a read error; a signal (EINTR) just retries.
  static func read(_ fd: Int32, timeout: Double) throws -> Data {
    let deadline = ProcessInfo.processInfo.systemUptime + timeout
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
      var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
      let left = Int32(max(0, min(1000, (deadline - ProcessInfo.processInfo.systemUptime) * 1000)))
      let ready = poll(&p, 1, left)
      if ready < 0 && errno == EINTR { continue }
      if ready < 0 { throw PlotError("cannot read gnuplot's answer (errno \(errno))") }
      if ready == 0 {
        if ProcessInfo.processInfo.systemUptime >= deadline {
          throw PlotError("gnuplot did not answer within \(Int(timeout)) s")
        }
        continue
      }
      let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
      if n < 0 && (errno == EINTR || errno == EAGAIN) { continue }
      if n < 0 { throw PlotError("cannot read gnuplot's answer (errno \(errno))") }
      return Data(buffer[0..<n])
    }
  }

  /// Renders a figure to `path` (PNG, SVG or sixel), or returns a text rendering (dumb) when
  /// `path` is nil. Every part goes where `FigureLayout` puts it.
  @discardableResult
  public func render(_ f: Figure, to path: String?, terminal: Terminal = .png) throws -> String {
    // gnuplot writes only to a file of ours (a name without user text); the figure is then moved to
    // `path` here, so no user path reaches gnuplot and a figure appears whole or not at all.
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent(
      "svfap-plot-\(getpid())-\(UUID().uuidString).\(terminal.rawValue)"
    ).path
    defer { unlink(scratch) }
    if let path {
      let dir = (path as NSString).deletingLastPathComponent
      if !dir.isEmpty && !FileManager.default.isWritableFile(atPath: dir) {
        throw PlotError(
          "cannot write the figure to \(Self.quotedPath(path)): the folder does not exist or is not writable"
        )
      }
    }
    try run(commands(f, output: scratch, terminal: terminal))
    if let path {
      try Self.place(scratch, at: path)
      return ""
    }
    return (try? String(contentsOfFile: scratch, encoding: .utf8)) ?? ""
  }

  /// The command stream that draws `f` into the file `output` (a path of ours): commands, in which
  /// user text appears only through `GnuplotText`, and inline data blocks.
  public func commands(_ f: Figure, output: String, terminal: Terminal) -> [GnuplotChunk] {
    let layout = FigureLayout(f)
    let (w, h) = (layout.width, layout.height)
    var chunks: [GnuplotChunk] = []
    func cmd(_ s: String) { chunks.append(.command(s)) }
    switch terminal {
    case .png: cmd("set terminal pngcairo size \(w),\(h) font 'sans,9' noenhanced")
    case .svg: cmd("set terminal svg size \(w),\(h) font 'sans,9' noenhanced")
    case .pdf:
      // pdfcairo measures in inches: the figure's pixels at 96 per inch.
      cmd(
        "set terminal pdfcairo size \(Double(w) / 96)in,\(Double(h) / 96)in font 'sans,9' noenhanced"
      )
    case .sixel: cmd("set terminal sixelgd size \(w),\(h) truecolor font 'sans,9' noenhanced")
    case .dumb:
      cmd(
        "set terminal dumb size \(max(60, min(w / 7, 120))),\(max(20, min(h / 12, 80))) noenhanced")
    }
    cmd("set output \(q(output))")
    cmd("reset session")
    cmd("set multiplot")
    let screen = Screen(width: w, height: h)
    let titles = zip(layout.titleLines, layout.titleBoxes).map {
      screen.label($0, centredIn: $1)
    }
    for (i, p) in f.panels.enumerated() {
      chunks += panel(
        p, area: layout.areas[i], label: screen.label(p.title, centredIn: layout.labelBoxes[i]),
        extra: i == 0 ? titles : [], screen: screen, text: terminal == .dumb)
    }
    if let scale = f.colourScale, let bar = layout.colourBar, let under = layout.colourBarLabels {
      chunks += colourBarPlot(scale, bar: bar, labels: under, screen: screen)
    }
    cmd("unset multiplot")
    cmd("set output")
    return chunks
  }

  /// Moves a rendered figure to `path`: a rename, or on another file system a copy next to `path`
  /// renamed into place (never a half-written figure); the error names the path and the reason.
  static func place(_ scratch: String, at path: String) throws {
    if rename(scratch, path) == 0 { return }
    var reason = String(cString: strerror(errno))
    if errno == EXDEV {
      let dir = (path as NSString).deletingLastPathComponent
      let temp = (dir.isEmpty ? "." : dir) + "/.svfap-figure-\(UUID().uuidString).tmp"
      do {
        try FileManager.default.copyItem(atPath: scratch, toPath: temp)
        if rename(temp, path) == 0 { return }
        reason = String(cString: strerror(errno))
      } catch {
        reason = "the copy failed"
      }
      unlink(temp)
    }
    throw PlotError("cannot write the figure to \(quotedPath(path)): \(reason)")
  }

  /// A path in a message: quoted, control characters shown as `?`.
  static func quotedPath(_ p: String) -> String { "'" + SafeFile.printable(p) + "'" }

  /// Pixel positions as gnuplot's screen coordinates (0…1, y up).
  struct Screen {
    let width: Int, height: Int
    func x(_ px: Int) -> String { String(format: "%.5f", Double(px) / Double(width)) }
    func y(_ px: Int) -> String { String(format: "%.5f", 1 - Double(px) / Double(height)) }
    /// Margins that make the plot area exactly `r`.
    func margins(_ r: Rect) -> String {
      """
      set lmargin at screen \(x(r.x)); set rmargin at screen \(x(r.right)); \
      set tmargin at screen \(y(r.y)); set bmargin at screen \(y(r.bottom))
      """
    }
    /// Origin and size that give a plot (with its axes) the rectangle `r`.
    func region(_ r: Rect) -> String {
      """
      set origin \(x(r.x)), \(y(r.bottom)); \
      set size \(String(format: "%.5f", Double(r.width) / Double(width))), \
      \(String(format: "%.5f", Double(r.height) / Double(height)))
      """
    }
    /// A label centred in `r`.
    func label(_ text: String, centredIn r: Rect) -> String {
      return
        "set label \(GnuplotText.quoted(text)) at screen \(x(r.x + r.width / 2)), screen \(y(r.y + r.height / 2)) "
        + "center front"
    }
  }

  /// User text as a gnuplot string literal (`GnuplotText`).
  func q(_ s: String) -> String { GnuplotText.quoted(s) }

  func panel(
    _ p: Figure.Panel, area a: Rect, label: String, extra: [String], screen: Screen,
    text: Bool = false
  )
    -> [GnuplotChunk]
  {
    var out: [GnuplotChunk] = []
    func cmd(_ s: String) { out.append(.command(s)) }
    cmd("reset")
    for l in extra + [label] { cmd(l) }
    switch p {
    case .image(let rgb, let w, let h, _):
      cmd("unset key; unset tics; unset border; unset colorbox")
      cmd(screen.margins(a))
      cmd("set xrange [-0.5:\(w)-0.5]; set yrange [-0.5:\(h)-0.5]")
      cmd("plot '-' binary array=(\(w),\(h)) format='%uchar' flipy with rgbimage")
      out.append(.data(Data(rgb)))
    case .curves(let series, let xl, let yl, let logY, _):
      cmd(screen.region(a))
      // Pictures: the axis label a little up, away from the legend under it (whole lines in text).
      cmd(
        "set xlabel \(q(xl))\(text ? "" : " offset 0,0.4"); set ylabel \(q(yl)); set grid")
      // The legend under the plot, never on the curves; ticks spaced for their labels.
      cmd("set key below vertical")
      let xs = series.flatMap(\.x).filter(\.isFinite)
      if let lo = xs.min(), let hi = xs.max(), hi > lo {
        let chars = max(tickText(lo).count, tickText(hi).count)
        let step = tickStep(low: lo, high: hi, pixels: a.width - 90, labelChars: chars)
        cmd("set xrange [\(lo):\(hi)]; set xtics \(step)")
      }
      if logY { cmd("set logscale y") }
      cmd(
        "plot "
          + series.map { "'-' with lines lw 2 title \(q($0.name))" }.joined(separator: ", "))
      for s in series {
        var d = ""
        for (x, y) in zip(s.x, s.y) where y.isFinite && (!logY || y > 0) { d += "\(x) \(y)\n" }
        out.append(.data(Data((d + "e\n").utf8)))
      }
    case .matrix(let values, let rowLabels, let colLabels, _):
      cmd(screen.region(a))
      cmd("unset key; set palette defined (0 'white', 1 '#3b6fb6'); set size ratio -1")
      let rows = values.count, cols = values.first?.count ?? 0
      cmd("set xrange [-0.5:\(cols)-0.5]; set yrange [\(rows)-0.5:-0.5]")
      // Tic labels are format strings to gnuplot: '%' must be doubled.
      func tic(_ s: String) -> String { GnuplotText.quotedFormat(s) }
      cmd(
        "set xtics (" + colLabels.enumerated().map { "\(tic($1)) \($0)" }.joined(separator: ", ")
          + ") rotate by 45 right")
      cmd(
        "set ytics (" + rowLabels.enumerated().map { "\(tic($1)) \($0)" }.joined(separator: ", ")
          + ")")
      cmd("set xlabel 'predicted'; set ylabel 'true'")
      for (r, row) in values.enumerated() {
        for (c, v) in row.enumerated() {
          cmd(
            """
            set label '\(v.isFinite && v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(format: "%.2f", v))' at \
            \(c),\(r) center front
            """
          )
        }
      }
      cmd("plot '-' matrix with image")
      out.append(
        .data(
          Data(
            (values.map { $0.map { String($0) }.joined(separator: " ") }.joined(separator: "\n")
              + "\ne\n").utf8)))
    case .scatter(let x, let y, let xl, let yl, _):
      cmd(screen.region(a))
      cmd("set xlabel \(q(xl)); set ylabel \(q(yl)); set grid; unset key")
      var lo = min(x.min() ?? 0, y.min() ?? 0), hi = max(x.max() ?? 1, y.max() ?? 1)
      if !(hi > lo) {  // all values equal: a range around them (gnuplot refuses an empty one)
        let pad = max(abs(lo) * 0.05, 0.5)
        (lo, hi) = (lo - pad, hi + pad)
      }
      cmd("set xrange [\(lo):\(hi)]; set yrange [\(lo):\(hi)]")
      cmd("plot '-' with points pt 7 ps 0.6, x with lines dt 2")
      out.append(
        .data(Data((zip(x, y).map { "\($0) \($1)" }.joined(separator: "\n") + "\ne\n").utf8)))
    }
    return out
  }

  /// The colour bar: the heat colours from low to high in `bar`, the scale written under it.
  func colourBarPlot(_ scale: Figure.ColourScale, bar: Rect, labels: Rect, screen: Screen)
    -> [GnuplotChunk]
  {
    var out: [GnuplotChunk] = []
    func cmd(_ s: String) { out.append(.command(s)) }
    let y = screen.y(labels.y + labels.height / 2)
    cmd("reset")
    cmd("unset key; unset tics; unset border; unset colorbox")
    cmd(screen.margins(bar))
    cmd("set label \(q(tickText(scale.low))) at screen \(screen.x(bar.x)), screen \(y) left")
    cmd(
      "set label \(q(tickText(scale.high))) at screen \(screen.x(bar.right)), screen \(y) right"
    )
    cmd(
      "set label \(q(scale.label)) at screen \(screen.x(bar.x + bar.width / 2)), screen \(y) "
        + "center")
    cmd("set xrange [-0.5:\(bar.width)-0.5]; set yrange [-0.5:1.5]")
    cmd("plot '-' binary array=(\(bar.width),2) format='%uchar' with rgbimage")
    out.append(.data(Data(colourBar(width: bar.width, height: 2))))
    return out
  }
}

/// One piece of gnuplot's input: a command line, or an inline data block that a command announced.
public enum GnuplotChunk: Sendable {
  /// A command (a newline is added).
  case command(String)
  /// Data read by the preceding `plot '-'`.
  case data(Data)

  /// The bytes sent.
  var bytes: Data {
    switch self {
    case .command(let s): return Data((s + "\n").utf8)
    case .data(let d): return d
    }
  }
}

/// A number as a short axis label (at most 4 significant digits).
func tickText(_ v: Double) -> String { String(format: "%.4g", v) }

/// A figure that could not be made: names what and why.
public struct PlotError: Error, CustomStringConvertible, Sendable {
  /// The message.
  public let message: String
  init(_ m: String) { message = m }
  /// The message.
  public var description: String { message }
}
