import Foundation

/// What a shipped pretrained checkpoint says about itself (stored as JSON under `svfap.model_card`
/// in the safetensors metadata, and written out beside it as Markdown): the preset and exact
/// architecture, the data, the training steps and final loss, and the script that reproduces it.
public struct ModelCard: Codable, Sendable, Equatable {
  /// The metadata key.
  public static let metadataKey = "svfap.model_card"

  /// The preset the weights belong to.
  public var preset: String
  /// The architecture they were trained with.
  public var config: SVFAPConfig
  /// What the model was pretrained on.
  public var data: String
  /// Optimizer steps of pretraining.
  public var steps: Int
  /// Mean loss of the last 100 steps (nil: not trained).
  public var finalLoss: Double?
  /// The command that reproduces the weights.
  public var script: String
  /// Further Markdown: how the weights were chosen and how they score on data they never saw.
  public var notes: String?
  /// How the pretraining clips were cropped; nil where the card does not say.
  public var crop: Crop?

  /// How the clips a model was pretrained on were cropped (stored as "aligned" or "box").
  public enum Crop: String, Codable, Sendable, CaseIterable {
    /// Face crops warped so the five landmarks sit on a template (`crop: "face" align: true`).
    case aligned
    /// Face box crops (`crop: "face"`).
    case box

    /// The crop in words ("aligned face crops").
    public var description: String { self == .aligned ? "aligned face crops" : "face box crops" }
    /// The `load` options that cut clips this way.
    public var loadOptions: String {
      self == .aligned ? "crop: \"face\" align: true" : "crop: \"face\""
    }
  }

  /// A card.
  public init(
    preset: String, config: SVFAPConfig, data: String, steps: Int, finalLoss: Double?,
    script: String
  ) {
    (self.preset, self.config, self.data, self.steps, self.finalLoss, self.script) = (
      preset, config, data, steps, finalLoss, script
    )
  }

  /// The card of a checkpoint file, or nil when it has none.
  public static func read(_ path: String) throws -> ModelCard? {
    guard let json = try SafeTensorsFile(path: path).metadata[metadataKey] else { return nil }
    do { return try JSONDecoder().decode(ModelCard.self, from: Data(json.utf8)) } catch {
      throw SVFAPError.badFile(path: path, message: "unreadable model card: \(error)")
    }
  }

  /// The card as metadata.
  public func metadata() throws -> [String: String] {
    [Self.metadataKey: String(decoding: try JSONEncoder().encode(self), as: UTF8.self)]
  }

  /// Where the card's architecture differs from `c` ("dim 96 ≠ 64"); empty when the weights fit.
  public func architectureDifferences(from c: SVFAPConfig) -> [String] {
    config.architectureDifferences(from: c)
  }

  /// The Markdown card.
  public var markdown: String {
    """
    # \(preset), pretrained

    | | |
    |---|---|
    | preset | `\(preset)` (\(config.dim) wide, stages \(config.stageDepths.map(String.init).joined(separator: "/")), \
    \(config.frames) frames of \(config.imgSize) × \(config.imgSize)) |
    | objective | masked video autoencoding, tube mask 0.9, normalized-pixel target |
    | data | \(data) |
    | steps | \(steps) |
    | final loss (mean of the last 100 steps) | \(finalLoss.map { String(format: "%.4f", $0) } ?? "none (not trained)") |
    | reproduce | `\(script)` |\(crop.map { "\n| input | \($0.description): load clips with `\($0.loadOptions)` |" } ?? "")

    Load it with `m = model "\(preset)" pretrained: true` (or `task: "finetune"` for its encoder).
    A checkpoint whose card disagrees with the preset's architecture is refused, naming the fields.

    """ + (notes.map { "\n\($0)\n" } ?? "")
  }
}
