import Foundation
import SVFAP
import Script
import Tensor

/// The pretrained weights that ship with the workbench (`models/PRESET-pretrained.safetensors`, each
/// with its model card), found in `$SVFAP_MODELS`, the repository's `models/` folder, or `./models`.
enum PretrainedWeights {
  /// The folders searched, in order.
  static var folders: [String] {
    let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("models").path
    let env = ProcessInfo.processInfo.environment["SVFAP_MODELS"].map { [$0] } ?? []
    return env + [repository, FileManager.default.currentDirectoryPath + "/models"]
  }

  /// The file name of a preset's pretrained weights.
  static func fileName(_ preset: String) -> String { "\(preset)-pretrained.safetensors" }

  /// Loads the shipped weights of `preset` into `module` (a pretraining model, or a fine-tuning
  /// model's encoder), after checking that the card's architecture is the preset's.
  static func load(preset: String, config: SVFAPConfig, into module: Module, _ a: Arguments) throws
    -> (LoadReport, ModelCard)
  {
    let name = fileName(preset)
    guard
      let path = folders.map({ $0 + "/" + name }).first(where: {
        FileManager.default.fileExists(atPath: $0)
      })
    else {
      throw a.error(
        "no pretrained weights for '\(preset)': \(name) is in none of \(folders.joined(separator: ", "))",
        io: true)
    }
    guard let card = try a.located({ try ModelCard.read(path) }) else {
      throw a.error("\(path) has no model card; refusing weights of unknown provenance", io: true)
    }
    let differences = card.architectureDifferences(from: config)
    guard card.preset == preset, differences.isEmpty else {
      let what =
        card.preset == preset ? differences.joined(separator: ", ") : "it is for '\(card.preset)'"
      throw a.error(
        "the model card of \(path) disagrees with preset '\(preset)': \(what)", io: true)
    }
    return (
      try a.located { try Checkpoint.load(try Checkpoint.readTensors(path), into: module) }, card
    )
  }
}
