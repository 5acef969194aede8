import Foundation
import Script

/// `open`: hands a figure (the last one by default) to the desktop's viewer.
struct OpenFigure: SessionCommand {
  unowned let session: Session
  let declaration = CommandDeclaration(
    "open", topic: "plot",
    summary:
      """
      Open a figure file in the desktop's image viewer (xdg-open), the last figure by default; \
      says where the file is when there is no desktop.
      """,
    params: [
      .positional("path", .string, "a figure file (default: the last figure)", default: .nilValue)
    ],
    returns: "string (the path opened)", example: "open", rootOnly: true)

  /// The programs that hand a file to the desktop, first found wins.
  static let viewers = ["xdg-open", "gio", "open"]

  func run(_ a: Arguments, in interp: Interpreter) throws -> Value {
    guard let given = try a.stringIfGiven("path") ?? session.lastFigure else {
      throw a.error("no figure yet: draw one with show (or name a file)")
    }
    let path = session.resolve(given)
    guard FileManager.default.isReadableFile(atPath: path) else {
      throw a.error("cannot open '\(path)': no such readable file", io: true)
    }
    let env = ProcessInfo.processInfo.environment
    guard env["DISPLAY"] != nil || env["WAYLAND_DISPLAY"] != nil else {
      throw a.error(
        "no desktop here (neither DISPLAY nor WAYLAND_DISPLAY is set); the figure is at \(path)")
    }
    let dirs = (env["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map(String.init)
    let found = Self.viewers.lazy.compactMap { name in
      dirs.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }.first
    guard let viewer = found else {
      throw a.error(
        "no desktop viewer found (\(Self.viewers.joined(separator: ", ")) are not installed); the figure is at \(path)"
      )
    }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: viewer)
    p.arguments = viewer.hasSuffix("/gio") ? ["open", path] : [path]
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    do { try p.run() } catch { throw a.error("cannot start \(viewer): \(error)", io: true) }
    interp.output("opened \(path) with \((viewer as NSString).lastPathComponent)")
    return .string(path)
  }
}
