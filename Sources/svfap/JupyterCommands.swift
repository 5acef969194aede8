import ArgumentParser
import Foundation
import Glibc
import Script
import Workbench

/// `svfap kernel`: the machine protocol of one session as JSON lines on stdin/stdout (the Jupyter
/// kernel in jupyter/svfap_kernel.py drives it; KernelSession documents the messages).
struct Kernel: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: """
      Serve one session as JSON lines on stdin/stdout (what the Jupyter kernel talks to); it ends \
      when its parent goes or its stdin closes, even during a cell.
      """)
  @Option(help: "The folder relative paths resolve against.") var directory = FileManager.default
    .currentDirectoryPath

  func run() throws {
    Interrupt.installHandler()
    // When the kernel that started us is gone, nobody can use this session any more (not even to
    // stop a runaway cell): end with it, even in the middle of a cell. Two signs, checked every
    // 0.2 s: the parent changed (we were re-parented), or our stdin, its pipe, hung up (the writer
    // is gone; POLLHUP is reported with no read, so the request loop's data stays where it is).
    let parent = getppid()
    Thread.detachNewThread {
      while true {
        if getppid() != parent { _exit(0) }
        var p = pollfd(fd: 0, events: 0, revents: 0)
        if poll(&p, 1, 200) > 0, p.revents & Int16(POLLHUP | POLLERR | POLLNVAL) != 0 { _exit(0) }
      }
    }
    let out = FileHandle.standardOutput
    let kernel = KernelSession(directory: directory) { event in
      guard let data = try? JSONSerialization.data(withJSONObject: event, options: [.sortedKeys])
      else { return }
      out.write(data + Data("\n".utf8))
    }
    while let line = readLine() {
      if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
      if !kernel.handle(line: line) { break }
    }
  }
}

/// `svfap jupyter`: the kernel's installation.
struct JupyterCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "jupyter", abstract: "Install the Jupyter kernel of the workbench language.",
    subcommands: [JupyterInstall.self])
}

/// `svfap jupyter install`: writes the kernelspec (kernel.json, the kernel module, a logo) pointing
/// at this binary.
struct JupyterInstall: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "install",
    abstract:
      "Write the svfap kernelspec (user folder by default, or under --prefix) pointing at this binary."
  )
  @Flag(help: "Install for this user (~/.local/share/jupyter/kernels/svfap).") var user = false
  @Option(help: "Install under PREFIX/share/jupyter/kernels/svfap (a virtual environment, say).")
  var prefix: String?

  func run() throws {
    let base = prefix.map { $0 + "/share/jupyter" } ?? (NSHomeDirectory() + "/.local/share/jupyter")
    let folder = base + "/kernels/svfap"
    do {
      try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    } catch {
      printError(
        """
        svfap jupyter install: cannot write the kernelspec into \(folder) \
        (\(error.localizedDescription)); a read-only prefix? try --user
        """)
      throw ExitCode(73)
    }
    let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("jupyter")
    for file in [
      "svfap_kernel.py", "svfap_wire.py", "logo-32x32.png", "logo-64x64.png", "logo-svg.svg",
    ] {
      let from = source.appendingPathComponent(file).path, to = folder + "/" + file
      guard FileManager.default.fileExists(atPath: from) else {
        throw ValidationError(
          "\(from) is missing (the kernel ships in the repository's jupyter/ folder)")
      }
      try? FileManager.default.removeItem(atPath: to)
      try FileManager.default.copyItem(atPath: from, toPath: to)
    }
    let binary = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
    let resolved = (try? FileManager.default.destinationOfSymbolicLink(atPath: binary)) ?? binary
    let spec: [String: Any] = [
      "argv": ["python3", folder + "/svfap_kernel.py", "-f", "{connection_file}"],
      "display_name": "SVFAP Workbench", "language": "svfap", "interrupt_mode": "signal",
      "env": [
        "SVFAP_BINARY": resolved.hasPrefix("/")
          ? resolved : FileManager.default.currentDirectoryPath + "/" + resolved
      ],
      "metadata": ["debugger": false],
    ]
    let data = try JSONSerialization.data(
      withJSONObject: spec, options: [.prettyPrinted, .sortedKeys])
    try data.write(to: URL(fileURLWithPath: folder + "/kernel.json"))
    print("installed the svfap kernel in \(folder)")
  }
}
