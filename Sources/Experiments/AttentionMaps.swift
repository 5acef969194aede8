import SVFAP
import Tensor

/// Attention maps of a fine-tuning model's stage-1 layers: per-layer (N, N) matrices read from the
/// blocks' probes during one forward pass, attention rollout, and a query's row or the mean over
/// queries.
public struct AttentionMaps {
  /// Per stage-1 layer: attention (heads, N, N), row-major.
  public let layers: [[Double]]
  /// Heads per layer.
  public let heads: Int
  /// Tokens N.
  public let tokens: Int

  /// Runs `model` on the first clip of `clip` (B, 3, T, H, W) and keeps every stage-1 layer's
  /// attention.
  public init(_ model: FinetuneModel, clip: Tensor) throws {
    let blocks = Array(model.blocks.prefix(model.config.stageDepths.first ?? 0))
    for b in blocks { b.attn.probe.keep = true }
    defer {
      for b in blocks {
        b.attn.probe.keep = false
        b.attn.probe.last = nil
      }
    }
    model.train(false)
    _ = try withNoGrad { try model(clip.slice(axis: 0, start: 0, count: 1)) }
    let probes = blocks.compactMap { $0.attn.probe.last }  // each (1, heads, N, N)
    layers = probes.map { $0.toDoubles() }
    heads = probes.first?.shape[1] ?? 0
    tokens = model.config.tokenCount
  }

  /// Layer `l`'s (N, N) attention of one head, or the mean over heads.
  public func matrix(layer l: Int, head: Int?) -> [Double] {
    let n = tokens, v = layers[l]
    if let h = head { return Array(v[(h * n * n)..<((h + 1) * n * n)]) }
    var out = [Double](repeating: 0, count: n * n)
    for h in 0..<heads { for i in 0..<(n * n) { out[i] += v[h * n * n + i] / Double(heads) } }
    return out
  }

  /// Attention rollout over layers 0...last: the product of (A + I) / 2, rows renormalized.
  public func rollout(through last: Int, head: Int?) -> [Double] {
    rollout(layers: 0...last, head: head)
  }

  /// Attention rollout over `layers`: the product of (A + I) / 2 from the first to the last.
  public func rollout(layers: ClosedRange<Int>, head: Int?) -> [Double] {
    let n = tokens
    var r = [Double](repeating: 0, count: n * n)
    for i in 0..<n { r[i * n + i] = 1 }
    for l in layers {
      let A = matrix(layer: l, head: head)
      var next = [Double](repeating: 0, count: n * n)
      for i in 0..<n {
        for k in 0..<n {
          let aik = 0.5 * A[i * n + k] + (i == k ? 0.5 : 0)
          if aik == 0 { continue }
          for j in 0..<n { next[i * n + j] += aik * r[k * n + j] }
        }
      }
      r = next
    }
    return r
  }

  /// One query's row of an (N, N) map, or the mean over all queries.
  public func values(of map: [Double], query: Int?) -> [Double] {
    let n = tokens
    if let q = query { return Array(map[(q * n)..<((q + 1) * n)]) }
    var out = [Double](repeating: 0, count: n)
    for i in 0..<n { for j in 0..<n { out[j] += map[i * n + j] / Double(n) } }
    return out
  }
}
