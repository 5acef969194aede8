import Datasets
import Foundation
import SVFAP
import Tensor

/// Writes video features (one row per video) for use outside the workbench: CSV (path, f0…, labels)
/// or safetensors (`features` (N, D), `labels` (N, K), the paths in the metadata).
public enum FeatureExport {
  /// Writes `features` of `rows` to `path` (.csv, else safetensors), atomically.
  public static func write(
    _ features: [[Double]], rows: [ManifestRow], labelNames: [String], to path: String
  ) throws {
    let dim = features.first?.count ?? 0
    if path.hasSuffix(".csv") {
      var text = "path," + (0..<dim).map { "f\($0)" }.joined(separator: ",")
      text += (labelNames.isEmpty ? "" : "," + labelNames.joined(separator: ",")) + "\n"
      for (r, f) in zip(rows, features) {
        text +=
          ([r.path] + f.map { String($0) } + r.labels.map { String($0) }).joined(separator: ",")
          + "\n"
      }
      try writeAtomically(Data(text.utf8), to: path)
      return
    }
    var tensors = [
      "features": try Tensor(
        features.flatMap { $0 }, shape: [features.count, dim], dtype: .float32)
    ]
    if let k = rows.first?.labels.count, k > 0 {
      tensors["labels"] = try Tensor(
        rows.flatMap(\.labels), shape: [rows.count, k], dtype: .float32)
    }
    try SafeTensorsFile.write(
      tensors, metadata: ["paths": rows.map(\.path).joined(separator: "\n")], to: path)
  }
}
