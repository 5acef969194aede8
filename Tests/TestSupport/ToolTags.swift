import Foundation
import Testing

extension Tag {
  /// Runs python3 (with numpy, safetensors, nbformat and the Jupyter packages scripts/setup installs).
  @Tag public static var python: Self
  /// Drives the REPL through tmux.
  @Tag public static var tmux: Self
  /// Renders with gnuplot.
  @Tag public static var gnuplot: Self
  /// Starts several processes with Open MPI's mpirun.
  @Tag public static var mpi: Self
}

/// Whether a program is on the PATH: a test that needs it is skipped, saying why, only where it is
/// truly missing (scripts/setup installs all of them).
public func installed(_ tool: String) -> Bool {
  (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").contains {
    FileManager.default.isExecutableFile(atPath: "\($0)/\(tool)")
  }
}
