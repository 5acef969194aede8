import Foundation
import SafeFiles

/// The Jupyter display data of a `figure: PATH` line that a figure command printed — PNG (or SVG
/// for .svg files) plus the line as text/plain — shared by the notebook runner and the kernel.
enum FigureDisplay {
  /// The MIME bundle of the line's figure, or nil when the line is not a readable figure.
  static func data(forLine line: String) -> [String: Any]? {
    guard line.hasPrefix("figure: ") else { return nil }
    let path = String(line.dropFirst(8))
    if path.hasSuffix(".png"), let png = try? SafeFile.read(path, limit: 1 << 28) {
      return ["image/png": png.base64EncodedString(), "text/plain": [line]]
    }
    if path.hasSuffix(".svg"), let svg = try? SafeFile.readText(path, limit: 1 << 28) {
      return ["image/svg+xml": svg, "text/plain": [line]]
    }
    return nil
  }
}
