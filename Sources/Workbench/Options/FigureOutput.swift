import Foundation
import Plot
import Script

/// Where a figure command writes: the `file` option, or the next free figures/fig-NNN.png (never
/// over an earlier figure: a new session in the same folder continues the numbering).
enum FigureOutput {
  /// The option every figure command takes.
  static let params: [Param] = [
    .option(
      "file", .string,
      "output .png, .svg or .pdf (default: figures/fig-NNN.png; another extension is refused)",
      default: .nilValue)
  ]

  /// The path the call's figure goes to (its folder created).
  static func path(_ a: Arguments, session: Session) throws -> String {
    if let file = try a.stringIfGiven("file") {
      let path = session.resolve(file)
      var st = stat()
      if stat(path, &st) == 0, (st.st_mode & S_IFMT) != S_IFREG {
        throw a.error("\(path) exists and is not a regular file; refusing to replace it", io: true)
      }
      try? FileManager.default.createDirectory(
        atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
      return path
    }
    let dir = session.resolve("figures")
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    var candidate: String
    repeat {
      session.figureCount += 1
      candidate = dir + String(format: "/fig-%03d.png", session.figureCount)
    } while FileManager.default.fileExists(atPath: candidate)
      || FileManager.default.fileExists(atPath: candidate.dropLast(4) + ".svg")
    return candidate
  }

  /// Renders `f` (PNG or SVG by the extension), optionally also as text, and prints its path.
  static func save(
    _ f: Figure, _ a: Arguments, _ interp: Interpreter, session: Session, text: Bool = false
  ) throws -> Value {
    let path = try path(a, session: session)
    // The file is what its name says: PNG, SVG or PDF (a PNG named .pdf misled).
    let ext = (path as NSString).pathExtension.lowercased()
    let terminal: Gnuplot.Terminal
    switch ext {
    case "svg": terminal = .svg
    case "pdf": terminal = .pdf
    case "png", "": terminal = .png
    default:
      throw a.error(
        "file: '\(path)': figures are written as .png, .svg or .pdf, not .\(ext)", io: true)
    }
    do {
      try Gnuplot.shared.render(f, to: path, terminal: terminal)
      // `text:` as the call gave it wins over the figure's own default.
      let printText = a.wasGiven("text") ? (a.values["text"] == .bool(true)) : text
      if printText {
        interp.output(try Gnuplot.shared.render(f, to: nil, terminal: .dumb))
      }
    } catch let e as PlotError { throw a.error("\(e)", io: true) }
    interp.output("figure: \(path)")
    session.lastFigure = path
    session.lastLayout = FigureLayout(f)
    session.lastFigureDrawn = f
    if let kind = session.inlineImageKind() {
      do {
        session.writeTerminal(try inline(f, path: path, kind: kind))
      } catch {
        interp.output("(the figure could not be drawn in the terminal: \(error))")
      }
    }
    return .nilValue
  }

  /// The bytes that draw figure `f` (written to `path`) in a terminal of `kind`.
  static func inline(_ f: Figure, path: String, kind: TerminalImages.Kind) throws -> Data {
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent(
      "svfap-inline-\(getpid())-\(UUID().uuidString)"
    ).path
    defer { unlink(scratch) }
    switch kind {
    case .sixel:
      try Gnuplot.shared.render(f, to: scratch, terminal: .sixel)
    case .kitty, .iterm:
      guard path.hasSuffix(".svg") else {
        return TerminalImages.escape(
          png: try Data(contentsOf: URL(fileURLWithPath: path)), as: kind)
      }
      try Gnuplot.shared.render(f, to: scratch, terminal: .png)
    }
    let data = try Data(contentsOf: URL(fileURLWithPath: scratch))
    return kind == .sixel ? data : TerminalImages.escape(png: data, as: kind)
  }
}
