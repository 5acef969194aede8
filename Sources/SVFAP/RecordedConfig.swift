import Foundation

/// The architecture a checkpoint of ours records about itself: weights saved by `save` carry it
/// under `svfap.config`, training states inside their `svfap.training` / `svfap.finetuning` JSON.
/// Unlike what the keys and shapes say, it includes heads, frames, size and the forward variant.
public enum RecordedConfig {
  /// The recorded architecture of a `.safetensors` file, or nil (another format, or none recorded).
  public static func read(_ path: String) -> SVFAPConfig? {
    guard path.hasSuffix(".safetensors"), let file = try? SafeTensorsFile(path: path) else {
      return nil
    }
    let decoder = JSONDecoder()
    if let json = file.metadata["svfap.config"],
      let c = try? decoder.decode(SVFAPConfig.self, from: Data(json.utf8))
    {
      return c
    }
    /// A training state's JSON: only its config is read here.
    struct State: Decodable { let config: SVFAPConfig }
    for key in ["svfap.training", "svfap.finetuning"] {
      if let json = file.metadata[key],
        let s = try? decoder.decode(State.self, from: Data(json.utf8))
      {
        return s.config
      }
    }
    return nil
  }

  /// The name of a pretraining forward, as the `variant:` option writes it ("paper" for ours).
  public static func forwardName(_ variant: ModelVariant?) -> String {
    variant.map { "the \($0.rawValue) forward" } ?? "the paper's forward"
  }
}
