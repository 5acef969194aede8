import Foundation
import Pickle
import SVFAP

/// Fuzzing of the file readers a person hands untrusted files to: bytes read as a pickle, a
/// safetensors file or a torch .pth archive, every tensor materialized and every value printed, as
/// a checkpoint command would. Errors are expected; a crash is the bug.
enum FormatFuzzing {
  /// Reads `bytes` as `format` ("pickle", "safetensors" or "pth"); .pth goes through a file in
  /// `folder`.
  static func run(_ bytes: [UInt8], format: String, folder: String) {
    switch format {
    case "pickle":
      if let v = try? RestrictedUnpickler.load(Data(bytes)) { _ = v.description }
    case "safetensors":
      guard let f = try? SafeTensorsFile(data: Data(bytes)) else { return }
      for name in f.names {
        _ = try? f.tensor(name)
        _ = try? f.ints(name)
      }
    case "pth":
      let path = folder + "/fuzz-\(getpid()).pth"
      guard (try? Data(bytes).write(to: URL(fileURLWithPath: path))) != nil else { return }
      if let c = try? TorchCheckpoint(path: path) {
        for (_, t) in c.tensors { _ = t.count }
        for (_, v) in c.extras { _ = v.description }
      }
    default:
      return
    }
  }
}
