import Foundation
import Tensor

/// One block of the TPSBT encoder, whatever its stage: run with or without a context, and its
/// self-attention (attention maps read its probe).
public protocol EncoderBlock: Module {
  /// The block's self-attention.
  var attn: Attention { get }
  /// x (B, N, C) -> (B, N, C); `context` (B, Nk, C) is the cross-attention's (nil in stage 1).
  func callAsFunction(_ x: Tensor, context: Tensor?, rows: inout RowGenerators) throws -> Tensor
}

/// Pre-norm Transformer block: x + attn(norm1(x)), then x + mlp(norm2(x)); optional drop path.
public final class Block: Module, EncoderBlock {
  /// Norm before attention.
  public let norm1: LayerNorm
  /// Self-attention.
  public let attn: Attention
  /// Norm before the MLP.
  public let norm2: LayerNorm
  /// MLP (ratio 4, GELU).
  public let mlp: Mlp
  /// Drop-path probability of each residual branch while training.
  let dropPath: Double

  package init(
    _ c: Int, heads: Int, mlpRatio: Double, eps: Double, dropPath: Double, _ i: inout Init
  ) {
    norm1 = LayerNorm(c, eps: eps, &i)
    attn = Attention(c, heads: heads, &i)
    norm2 = LayerNorm(c, eps: eps, &i)
    mlp = Mlp(c, hidden: Int(Double(c) * mlpRatio), &i)
    self.dropPath = dropPath
  }

  /// x (B, N, C) -> (B, N, C).
  public func callAsFunction(_ x: Tensor, rows: inout RowGenerators) throws -> Tensor {
    let p = training ? dropPath : 0
    let h = try x + attn(norm1(x)).dropPath(p, rows: &rows)
    return try h + mlp(norm2(h)).dropPath(p, rows: &rows)
  }

  /// A stage-1 block takes no context.
  public func callAsFunction(_ x: Tensor, context: Tensor?, rows: inout RowGenerators) throws
    -> Tensor
  {
    guard context == nil else { throw SVFAPError.badConfig("a stage-1 block takes no context") }
    return try self(x, rows: &rows)
  }
}

/// Cross-self block: x + crossAttn(crossNorm1(x), crossNorm2(context)), then the two Block
/// sub-layers.
public final class CrossSelfBlock: Module, EncoderBlock {
  /// Norm of the queries before cross-attention.
  public let crossNorm1: LayerNorm
  /// Norm of the context before cross-attention.
  public let crossNorm2: LayerNorm
  /// Cross-attention.
  public let crossAttn: CrossAttention
  /// Norm before self-attention.
  public let norm1: LayerNorm
  /// Self-attention.
  public let attn: Attention
  /// Norm before the MLP.
  public let norm2: LayerNorm
  /// MLP.
  public let mlp: Mlp
  /// Drop-path probability of each residual branch while training.
  let dropPath: Double

  package init(
    _ c: Int, contextDim: Int, heads: Int, mlpRatio: Double, eps: Double, dropPath: Double,
    _ i: inout Init
  ) {
    crossNorm1 = LayerNorm(c, eps: eps, &i)
    crossNorm2 = LayerNorm(contextDim, eps: eps, &i)
    crossAttn = CrossAttention(c, contextDim: contextDim, heads: heads, &i)
    norm1 = LayerNorm(c, eps: eps, &i)
    attn = Attention(c, heads: heads, &i)
    norm2 = LayerNorm(c, eps: eps, &i)
    mlp = Mlp(c, hidden: Int(Double(c) * mlpRatio), &i)
    self.dropPath = dropPath
  }

  /// x (B, Nq, C), context (B, Nk, Cctx) -> (B, Nq, C).
  public func callAsFunction(_ x: Tensor, context: Tensor, rows: inout RowGenerators) throws
    -> Tensor
  {
    let p = training ? dropPath : 0
    var h = try x + crossAttn(crossNorm1(x), context: crossNorm2(context)).dropPath(p, rows: &rows)
    h = try h + attn(norm1(h)).dropPath(p, rows: &rows)
    return try h + mlp(norm2(h)).dropPath(p, rows: &rows)
  }

  /// A cross-self block needs its context.
  public func callAsFunction(_ x: Tensor, context: Tensor?, rows: inout RowGenerators) throws
    -> Tensor
  {
    guard let context else { throw SVFAPError.badConfig("a cross-self block needs a context") }
    return try self(x, context: context, rows: &rows)
  }
}

/// The spatial bottleneck of TPSBT: per time slice, G softmax-weighted sums of the slice's S
/// tokens, with weights from LN + MLP (C -> 128 -> G) and the softmax over the S spatial tokens.
public final class SpatialAttention: Module {
  /// Norm of the tokens before scoring.
  public let norm: LayerNorm
  /// Scores: C -> bottleneck width -> G.
  public let mlp: Mlp
  /// Keeps the last softmax weights (B, t, G, S) when asked (bottleneck maps).
  public let probe = AttentionProbe()

  package init(_ c: Int, tokens g: Int, hidden: Int, eps: Double, _ i: inout Init) {
    norm = LayerNorm(c, eps: eps, &i)
    mlp = Mlp(c, hidden: hidden, out: g, &i)
  }

  /// x (B, t*S, C) t-major with `slices` = t -> (B, t*G, C).
  public func callAsFunction(_ x: Tensor, slices t: Int) throws -> Tensor {
    let (b, n, c) = (x.shape[0], x.shape[1], x.shape[2])
    guard t > 0, n % t == 0 else {
      throw TensorError.invalidArgument(
        op: "spatial attention",
        message: "\(n) tokens do not split into \(t) time slices (input \(x.shape))")
    }
    let s = n / t, g = mlp.fc2.weight.shape[0]
    let scores = try mlp(norm(x)).reshaped([b * t, s, g]).transposed(1, 2)  // (B*t, G, S)
    let weights = scores.softmax()
    if probe.keep { probe.last = try weights.detached().reshaped([b, t, g, s]) }
    let pooled = try Tensor.matmul(weights, x.reshaped([b * t, s, c]))  // (B*t, G, C)
    return try pooled.reshaped([b, t * g, c])
  }
}

/// The temporal pyramid step: Conv1d over time with kernel = stride = k, per spatial position.
public final class TemporalConv: Module {
  /// (C_out, C_in, k), as nn.Conv1d.
  public let weight: Tensor
  /// (C_out).
  public let bias: Tensor

  package init(_ c: Int, kernel k: Int, _ i: inout Init) {
    weight = i.torchDefault([c, c, k], fanIn: c * k)
    bias = i.torchDefault([c], fanIn: c * k)
  }

  /// Kernel size (= stride).
  var kernel: Int { weight.shape[2] }

  /// x (B, t*S, C) t-major with t slices -> (B, (t/k)*S, C); a trailing incomplete window is
  /// dropped, as nn.Conv1d does.
  public func callAsFunction(_ x: Tensor, slices t: Int) throws -> Tensor {
    let (b, n, c) = (x.shape[0], x.shape[1], x.shape[2])
    guard t > 0, n % t == 0, c == weight.shape[1] else {
      throw TensorError.invalidArgument(
        op: "temporal conv",
        message: "input \(x.shape) with \(t) time slices does not fit weight \(weight.shape)")
    }
    let s = n / t, k = kernel, tOut = t / k
    guard tOut > 0 else {
      throw TensorError.invalidArgument(
        op: "temporal conv", message: "\(t) time slices are fewer than the kernel \(k)")
    }
    var h = x
    if tOut * k != t { h = try x.slice(axis: 1, start: 0, count: tOut * k * s) }
    let windows = try h.reshaped([b, tOut, k, s, c]).permuted([0, 1, 3, 4, 2]).reshaped([
      b, tOut * s, c * k,
    ])  // (.., C_in*k)
    return try windows.linear(weight.reshaped([weight.shape[0], c * k]), bias)
  }

  /// The plain nn.Conv1d layout: x (N, C, T) -> (N, C_out, T/k).
  public func conv1d(_ x: Tensor) throws -> Tensor {
    guard x.rank == 3 else {
      throw TensorError.invalidArgument(op: "conv1d", message: "need (N, C, T), got \(x.shape)")
    }
    let tokens = try x.permuted([0, 2, 1])  // (N, T, C): one spatial position per batch item
    return try callAsFunction(tokens, slices: x.shape[2]).permuted([0, 2, 1])
  }
}

/// Tubelet embedding: Conv3d with kernel = stride = (tubelet, P, P) as a linear map of unfolded
/// tubelets.
public final class PatchEmbed: Module {
  /// The Conv3d whose weight is (C, 3, tubelet, P, P).
  public let proj: Conv3dWeights

  package init(inChans: Int, dim: Int, tubelet: Int, patch: Int, _ i: inout Init) {
    proj = Conv3dWeights(inChans: inChans, dim: dim, tubelet: tubelet, patch: patch, &i)
  }

  /// video (B, 3, T, H, W) -> tokens (B, T'*H'*W', C), t-major then row then column.
  public func callAsFunction(_ video: Tensor) throws -> Tensor {
    let w = proj.weight
    let (cOut, cin, kt, p) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
    guard video.rank == 5, video.shape[1] == cin, video.shape[2] % kt == 0, video.shape[3] % p == 0,
      video.shape[4] % p == 0
    else {
      throw TensorError.invalidArgument(
        op: "patch embed",
        message:
          """
          video \(video.shape) does not fit tubelets (\(cin), \(kt), \(p), \(p)); expected (B, \
          \(cin), T, H, W) with T divisible by \(kt) and H, W by \(p)
          """
      )
    }
    let (b, t, h, wd) = (
      video.shape[0], video.shape[2] / kt, video.shape[3] / p, video.shape[4] / p
    )
    let unfolded = try video.reshaped([b, cin, t, kt, h, p, wd, p]).permuted([
      0, 2, 4, 6, 1, 3, 5, 7,
    ])
    .reshaped([b, t * h * wd, cin * kt * p * p])  // (B, N, 3*kt*P*P) in (c, t, h, w) order
    return try unfolded.linear(w.reshaped([cOut, cin * kt * p * p]), proj.bias)
  }
}

/// The weight and bias of a Conv3d (so state_dict names read `patch_embed.proj.weight`).
public final class Conv3dWeights: Module {
  /// (C, 3, tubelet, P, P).
  public let weight: Tensor
  /// (C).
  public let bias: Tensor

  package init(inChans: Int, dim: Int, tubelet: Int, patch: Int, _ i: inout Init) {
    let fanIn = inChans * tubelet * patch * patch
    weight = i.torchDefault([dim, inChans, tubelet, patch, patch], fanIn: fanIn)
    bias = i.torchDefault([dim], fanIn: fanIn)
  }
}

/// The fixed sinusoid position table (1, n, d): sin on even, cos on odd columns, pos /
/// 10000^(2(j/2)/d), computed in Double and rounded to Float as the authors' code does.
public func sinusoidTable(count n: Int, dim d: Int, dtype: DType = .float32) -> Tensor {
  SinusoidCache.shared.table(n, d, dtype)
}

/// Keeps computed sinusoid tables (they are constants; every forward pass needs them).
final class SinusoidCache: @unchecked Sendable {
  static let shared = SinusoidCache()
  private var tables: [String: Tensor] = [:]
  private let lock = NSLock()

  func table(_ n: Int, _ d: Int, _ dtype: DType) -> Tensor {
    let key = "\(n)x\(d)x\(dtype)"
    lock.lock()
    defer { lock.unlock() }
    if let t = tables[key] { return t }
    let t = computeSinusoidTable(count: n, dim: d, dtype: dtype)
    tables[key] = t
    return t
  }
}

/// Computes the table (see `sinusoidTable`).
func computeSinusoidTable(count n: Int, dim d: Int, dtype: DType) -> Tensor {
  let table = Tensor.zeros([1, n, d], dtype: dtype)  // (1, N, d)
  for pos in 0..<n {
    for j in 0..<d {
      let angle = Double(pos) / pow10000(2 * Double(j / 2) / Double(d))
      let v = j % 2 == 0 ? sinD(angle) : cosD(angle)
      table[flat: pos * d + j] = Double(Float(v))  // float32 values, as the authors' table
    }
  }
  return table
}

func pow10000(_ e: Double) -> Double { Foundation.pow(10000, e) }
func sinD(_ x: Double) -> Double { Foundation.sin(x) }
func cosD(_ x: Double) -> Double { Foundation.cos(x) }
