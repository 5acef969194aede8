import Foundation
import Tensor

/// AdamW (decoupled weight decay, Loshchilov & Hutter) over named parameters, with per-parameter
/// learning-rate scales (layer-wise decay) and no weight decay on biases, norms, position tables
/// and the mask token (every parameter of rank < 2, plus names in `noDecayNames`), as the authors
/// do.
public final class AdamW {
  /// Hyper-parameters.
  public struct Settings: Codable, Sendable, Equatable {
    /// β1, β2.
    public var betas: (Double, Double) { (beta1, beta2) }
    /// β1.
    public var beta1 = 0.9
    /// β2 (0.95 for pretraining, 0.999 for fine-tuning).
    public var beta2 = 0.95
    /// ε.
    public var eps = 1e-8
    /// Decoupled weight decay.
    public var weightDecay = 0.05
    /// Default settings (SVFAP pretraining).
    public init() {}
  }

  /// The settings.
  public var settings: Settings
  /// Parameters in a fixed order, with names.
  public let parameters: [(name: String, tensor: Tensor)]
  /// Learning-rate multiplier per parameter (1, or layer decay^depth).
  public var lrScale: [Double]
  /// Whether each parameter is decayed.
  public let decays: [Bool]
  /// First and second moments (Double buffers, so the update is exact and resumes bit-for-bit).
  var m: [[Double]]
  var v: [[Double]]
  /// Steps taken.
  public private(set) var step = 0

  /// An optimizer for a module's parameters.
  public init(
    _ module: Module, settings: Settings = Settings(),
    noDecayNames: Set<String> = ["mask_token", "pos_embed", "cls_token"]
  ) {
    self.settings = settings
    parameters = module.namedParameters()
    decays = parameters.map { p in
      p.tensor.rank >= 2 && !noDecayNames.contains(where: { p.name.hasSuffix($0) })
    }
    lrScale = [Double](repeating: 1, count: parameters.count)
    m = parameters.map { [Double](repeating: 0, count: $0.tensor.count) }
    v = m
  }

  /// Applies one update with learning rate `lr` from the parameters' gradients (a parameter without
  /// a gradient is left as it is), then drops the gradients.
  public func update(lr: Double) {
    Profile.measure(.optimizer) { apply(lr: lr) }
  }

  /// The update's arithmetic.
  private func apply(lr: Double) {
    step += 1
    let (b1, b2) = (settings.beta1, settings.beta2)
    let c1 = 1 - pow(b1, Double(step)), c2 = 1 - pow(b2, Double(step))
    for (k, p) in parameters.enumerated() {
      guard let g = p.tensor.grad else { continue }
      let rate = lr * lrScale[k]
      let decay = decays[k] ? 1 - rate * settings.weightDecay : 1
      let constants: AdamWConstants = (b1, b2, c1, c2, settings.eps, decay, rate)
      m[k].withUnsafeMutableBufferPointer { mk in
        v[k].withUnsafeMutableBufferPointer { vk in
          guard let mp = mk.baseAddress, let vp = vk.baseAddress else { return }  // empty
          p.tensor.adamWUpdate(grad: g, m: mp, v: vp, constants)
        }
      }
      p.tensor.grad = nil
    }
  }

  /// Scales all gradients so their global L2 norm is at most `maxNorm`; returns the norm before.
  @discardableResult
  public func clipGradients(maxNorm: Double?) -> Double {
    var sq = 0.0
    for p in parameters { if let g = p.tensor.grad { sq += g.sumOfSquares() } }
    let norm = sq.squareRoot()
    if let maxNorm, norm > maxNorm, norm > 0 {
      for p in parameters { if let g = p.tensor.grad { p.tensor.grad = g.affine(maxNorm / norm) } }
    }
    return norm
  }

  /// Moments and step for a checkpoint: tensors named `m.<param>`, `v.<param>` (float64).
  public func stateTensors() throws -> [String: Tensor] {
    var out: [String: Tensor] = [:]
    for (k, p) in parameters.enumerated() {
      out["m." + p.name] = try Tensor(m[k], shape: p.tensor.shape, dtype: .float64)
      out["v." + p.name] = try Tensor(v[k], shape: p.tensor.shape, dtype: .float64)
    }
    return out
  }

  /// Sets the step count (a data-parallel run takes rank 0's).
  func setStep(_ n: Int) { step = max(n, 0) }

  /// Restores moments and step saved by `stateTensors`.
  public func restore(_ state: [String: Tensor], step: Int) throws {
    for (k, p) in parameters.enumerated() {
      guard let mt = state["m." + p.name], let vt = state["v." + p.name],
        mt.count == p.tensor.count, vt.count == p.tensor.count
      else {
        throw SVFAPError.badFile(
          path: "optimizer state", message: "no moments of the right size for '\(p.name)'")
      }
      m[k] = mt.toDoubles()
      v[k] = vt.toDoubles()
    }
    self.step = step
  }
}
