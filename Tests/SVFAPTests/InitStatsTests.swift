import Foundation
import Testing

@testable import SVFAP
@testable import Tensor

/// Our initialization against the authors' (Tests/Fixtures/init_stats.json: per-tensor mean, std,
/// min, max of their freshly built models, averaged over 3 seeds) for svfap-base and svfap-tiny,
/// fine-tuning and pretraining: the same tensor names and shapes, constants equal, and each drawn
/// tensor's spread within sampling error of theirs.
@Suite struct InitStatsTests {
  struct Stat {
    let shape: [Int]
    let mean: Double, std: Double, min: Double, max: Double
  }

  static func reference() throws -> [String: [String: Stat]] {
    let data = try Data(contentsOf: fixturesDir.appendingPathComponent("init_stats.json"))
    guard let root = try JSONSerialization.jsonObject(with: data) as? [String: Any],
      let models = root["models"] as? [String: [String: [String: Any]]]
    else { throw SVFAPError.badConfig("init_stats.json without models") }
    return models.mapValues { tensors in
      tensors.mapValues { s in
        Stat(
          shape: s["shape"] as? [Int] ?? [], mean: s["mean"] as? Double ?? .nan,
          std: s["std"] as? Double ?? .nan,
          min: s["min"] as? Double ?? .nan, max: s["max"] as? Double ?? .nan)
      }
    }
  }

  @Test(arguments: [
    "svfap-tiny/finetune", "svfap-tiny/pretrain", "svfap-base/finetune", "svfap-base/pretrain",
  ])
  func initializationMatchesTheAuthors(model key: String) throws {
    let ref = try #require(try Self.reference()[key])
    let parts = key.split(separator: "/").map(String.init)
    var c = try SVFAPConfig.preset(parts[0])
    let module: Module
    if parts[1] == "finetune" {
      c.numClasses = 7
      module = try FinetuneModel(c, seed: 3)
    } else {
      module = try PretrainModel(c, seed: 3)
    }
    let ours = Dictionary(
      uniqueKeysWithValues: module.namedParameters().map { ($0.name, $0.tensor) })
    #expect(
      Set(ours.keys) == Set(ref.keys),
      """
      parameter names differ: ours only \(Set(ours.keys).subtracting(ref.keys).sorted()), \
      theirs only \(Set(ref.keys).subtracting(ours.keys).sorted())
      """
    )
    for (name, r) in ref {
      guard let t = ours[name] else { continue }
      #expect(t.shape == r.shape, "\(key) \(name): shape \(t.shape), the authors' \(r.shape)")
      let v = t.toDoubles(), n = Double(v.count)
      let mean = v.reduce(0, +) / n
      let std = (v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / n).squareRoot()
      let maxAbs = v.map(abs).max() ?? 0
      if r.std == 0 {
        #expect(
          v.allSatisfy { $0 == r.mean }, "\(key) \(name): the authors' is the constant \(r.mean)")
        continue
      }
      // Sampling error of a std estimate ~ 1/√(2n); 3 of those plus 2 %.
      let tol = 0.02 + 3 / (2 * n).squareRoot()
      #expect(
        abs(std / r.std - 1) <= tol,
        "\(key) \(name): std \(std), the authors' \(r.std) (±\(Int(tol * 100)) %)")
      #expect(
        maxAbs <= 1.3 * Swift.max(abs(r.min), abs(r.max)),
        "\(key) \(name): max |x| \(maxAbs), the authors' range \(r.min)…\(r.max)")
    }
  }
}
