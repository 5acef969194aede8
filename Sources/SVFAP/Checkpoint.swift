import Foundation
import Tensor

/// What loading a checkpoint into a model did.
public struct LoadReport: Sendable, CustomStringConvertible {
  /// Model tensors filled from the checkpoint.
  public var loaded: [String] = []
  /// Model tensors the checkpoint lacks (kept as initialized, e.g. a new fc_norm and head).
  public var new: [String] = []
  /// Checkpoint tensors the model does not use (e.g. the decoder when fine-tuning).
  public var unused: [String] = []

  /// A summary in a few lines.
  public var description: String {
    var s = "loaded \(loaded.count) tensors"
    if !new.isEmpty {
      s += "; new (initialized, not in the checkpoint): \(new.joined(separator: ", "))"
    }
    if !unused.isEmpty {
      s +=
        """
        ; unused: \(unused.count) \
        (\(unused.prefix(4).joined(separator: ", "))\(unused.count > 4 ? ", …" : ""))
        """
    }
    return s
  }
}

/// Reading and writing model weights: safetensors both ways, the authors' `.pth` files read-only.
public enum Checkpoint {
  /// The tensors of a `.safetensors` or `.pth` file, by PyTorch state_dict name.
  public static func readTensors(_ path: String) throws -> [String: Tensor] {
    if path.hasSuffix(".pth") || path.hasSuffix(".pt") || path.hasSuffix(".bin") {
      return try TorchCheckpoint(path: path).tensors
    }
    let f = try SafeTensorsFile(path: path)
    var out: [String: Tensor] = [:]
    for (name, entry) in f.entries where entry.dtype.hasPrefix("F") {
      out[name] = try f.tensor(name)
    }
    return out
  }

  /// Writes a model's parameters as safetensors (atomically), with the config in the metadata.
  public static func save(
    _ model: Module, config: SVFAPConfig?, to path: String, metadata: [String: String] = [:]
  ) throws {
    var meta = metadata
    if let config, let json = try? JSONEncoder().encode(config) {
      meta["svfap.config"] = String(decoding: json, as: UTF8.self)
    }
    try SafeTensorsFile.write(model.stateDict(), metadata: meta, to: path)
  }

  /// Copies `state` into `model`, mapping names: a pretraining checkpoint's `encoder.` prefix is
  /// dropped when the model is a fine-tuning model (whose names have none). Any shape mismatch is
  /// an error naming the tensor and both shapes; a checkpoint that shares no tensor with the model
  /// is refused.
  @discardableResult
  public static func load(_ state: [String: Tensor], into model: Module) throws -> LoadReport {
    let params = model.namedParameters()
    let names = Set(params.map(\.name))
    var mapped: [String: (String, Tensor)] = [:]
    for (k, t) in state {
      var target = k
      if !names.contains(k), k.hasPrefix("encoder."), names.contains(String(k.dropFirst(8))) {
        target = String(k.dropFirst(8))
      }
      if !names.contains(k), !k.hasPrefix("encoder."), names.contains("encoder." + k) {
        target = "encoder." + k
      }
      if mapped[target] == nil || target == k { mapped[target] = (k, t) }
    }
    var report = LoadReport()
    for (name, p) in params {
      guard let (source, t) = mapped[name] else {
        report.new.append(name)
        continue
      }
      guard t.shape == p.shape else {
        throw SVFAPError.badFile(
          path: source,
          message:
            """
            checkpoint tensor '\(source)' has shape \(t.shape) but the model's '\(name)' is \
            \(p.shape): the checkpoint is from another architecture
            """
        )
      }
      report.loaded.append(name)
    }
    let used = Set(report.loaded.compactMap { mapped[$0]?.0 })
    report.unused = state.keys.filter { !used.contains($0) }.sorted()
    guard !report.loaded.isEmpty else {
      throw SVFAPError.badFile(
        path: "checkpoint",
        message:
          """
          none of its \(state.count) tensors matches a model tensor: another architecture or \
          naming
          """
      )
    }
    for (name, p) in params { if let (_, t) = mapped[name] { try p.assign(t) } }
    return report
  }
}
