import Tensor

/// How nn.Linear weights are drawn: the authors' fine-tuning model applies trunc_normal(0.02)
/// (timm's, cut at ±2 absolute, so in effect untruncated), their pretraining model xavier-uniform.
package enum LinearInit: Sendable {
  /// xavier-uniform over the whole (out, in) matrix (`modeling_pretrain._init_weights`).
  case xavierUniform
  /// Normal(0, std) cut at ±2 (`modeling_finetune._init_weights`).
  case truncNormal(std: Double)
  /// PyTorch's nn.Linear default, U(±1/√in): layers built after the authors'
  /// `apply(_init_weights)`.
  case torchDefault
}

/// Weight initialization as the authors' code: Linear weights by `linear`, biases 0, LayerNorm 1/0,
/// and Conv3d/Conv1d with PyTorch's default (kaiming-uniform a = √5: U(±1/√fan_in) for weight and
/// bias).
package struct Init {
  /// The element type of new parameters.
  let dtype: DType
  /// The generator drawing initial weights.
  var rng: SplitMix64
  /// How Linear weights are drawn.
  var linear: LinearInit = .xavierUniform

  /// Draws parameters of `dtype` from `rng`, Linear weights by `linear`.
  package init(dtype: DType, rng: SplitMix64, linear: LinearInit = .xavierUniform) {
    (self.dtype, self.rng, self.linear) = (dtype, rng, linear)
  }

  /// A (fanOut, fanIn)-shaped matrix, xavier-uniform.
  mutating func xavier(_ shape: [Int], fanIn: Int, fanOut: Int) -> Tensor {
    let a = (6.0 / Double(fanIn + fanOut)).squareRoot()
    return param(Tensor.uniform(shape, -a, a, dtype: dtype, rng: &rng))
  }

  /// An nn.Linear weight (out, in), drawn by `linear`.
  mutating func linearWeight(out: Int, in nIn: Int) -> Tensor {
    switch linear {
    case .xavierUniform: return xavier([out, nIn], fanIn: nIn, fanOut: out)
    case .truncNormal(let std): return truncNormal([out, nIn], std: std, bound: 2)
    case .torchDefault: return torchDefault([out, nIn], fanIn: nIn)
    }
  }

  /// PyTorch's default for a convolution's weight and bias: U(±1/√fanIn).
  mutating func torchDefault(_ shape: [Int], fanIn: Int) -> Tensor {
    let a = 1 / Double(max(fanIn, 1)).squareRoot()
    return param(Tensor.uniform(shape, -a, a, dtype: dtype, rng: &rng))
  }

  /// Normal(0, std) redrawn outside ±bound (absolute, as `torch.nn.init.trunc_normal_`'s a and b).
  mutating func truncNormal(_ shape: [Int], std: Double, bound: Double) -> Tensor {
    let t = Tensor.zeros(shape, dtype: dtype)
    for i in 0..<t.count {
      var v = rng.nextNormal() * std
      while abs(v) > bound { v = rng.nextNormal() * std }
      t[flat: i] = v
    }
    return param(t)
  }

  /// Constant-filled parameter.
  func constant(_ shape: [Int], _ v: Double) -> Tensor {
    param(Tensor.full(shape, v, dtype: dtype))
  }

  private func param(_ t: Tensor) -> Tensor {
    t.requiresGrad = true
    return t
  }
}

/// y = x Wᵀ + b (PyTorch nn.Linear): weight (out, in), bias (out).
public final class Linear: Module {
  /// (out, in).
  public let weight: Tensor
  /// (out), or none.
  public let bias: Tensor?

  package init(_ nIn: Int, _ nOut: Int, bias: Bool = true, _ i: inout Init) {
    weight = i.linearWeight(out: nOut, in: nIn)
    self.bias = bias ? i.constant([nOut], 0) : nil
  }

  /// x (..., in) -> (..., out).
  public func callAsFunction(_ x: Tensor) throws -> Tensor { try x.linear(weight, bias) }
}

/// LayerNorm over the last axis (eps 1e-6 in SVFAP).
public final class LayerNorm: Module {
  /// Scale (C).
  public let weight: Tensor
  /// Shift (C).
  public let bias: Tensor
  /// Added to the variance.
  let eps: Double

  package init(_ c: Int, eps: Double, _ i: inout Init) {
    weight = i.constant([c], 1)
    bias = i.constant([c], 0)
    self.eps = eps
  }

  /// x (..., C) -> (..., C).
  public func callAsFunction(_ x: Tensor) throws -> Tensor {
    try x.layerNorm(weight, bias, eps: eps)
  }
}

/// fc2(GELU(fc1(x))).
public final class Mlp: Module {
  /// C -> hidden.
  public let fc1: Linear
  /// hidden -> out.
  public let fc2: Linear

  package init(_ c: Int, hidden: Int, out: Int? = nil, _ i: inout Init) {
    fc1 = Linear(c, hidden, &i)
    fc2 = Linear(hidden, out ?? c, &i)
  }

  /// x (..., C) -> (..., out).
  public func callAsFunction(_ x: Tensor) throws -> Tensor { try fc2(fc1(x).gelu()) }
}

/// Multi-head self-attention with a bias on q and v only ([q_bias, 0, v_bias]) and scale
/// head_dim^-0.5.
public final class Attention: Module {
  /// Packed q, k, v projection, no bias of its own: (3C, C).
  public let qkv: Linear
  /// Bias of q (C).
  public let qBias: Tensor
  /// Bias of v (C).
  public let vBias: Tensor
  /// Output projection.
  public let proj: Linear
  /// Number of heads.
  let heads: Int
  /// Keeps the last attention probabilities when asked (attention maps); not a parameter.
  public let probe = AttentionProbe()

  package init(_ c: Int, heads: Int, _ i: inout Init) {
    qkv = Linear(c, 3 * c, bias: false, &i)
    qBias = i.constant([c], 0)
    vBias = i.constant([c], 0)
    proj = Linear(c, c, &i)
    self.heads = heads
  }

  /// x (B, N, C) -> (B, N, C).
  public func callAsFunction(_ x: Tensor) throws -> Tensor {
    let c = qBias.count
    let bias = try Tensor.concat([qBias, Tensor.zeros([c], dtype: x.dtype), vBias], axis: 0)
    let qkvOut = try x.linear(qkv.weight, bias)  // (B, N, 3C): [q | k | v], each head-major
    let d = c / heads
    let (out, probs) = try Tensor.multiHeadAttention(
      q: .init(qkvOut, offset: 0), k: .init(qkvOut, offset: c), v: .init(qkvOut, offset: 2 * c),
      heads: heads, headDim: d, scale: 1 / Double(d).squareRoot())  // (B, N, C), (B, H, N, N)
    if probe.keep { probe.last = probs }
    return try proj(out)
  }
}

/// Multi-head cross-attention: queries from x, keys and values from a context (GeneralAttention).
public final class CrossAttention: Module {
  /// Query projection (C, C), no bias of its own.
  public let q: Linear
  /// Packed key/value projection (2C, Cctx), no bias of its own.
  public let kv: Linear
  /// Bias of q (C).
  public let qBias: Tensor
  /// Bias of v (C).
  public let vBias: Tensor
  /// Output projection.
  public let proj: Linear
  /// Number of heads.
  let heads: Int
  /// Keeps the last attention probabilities when asked (attention maps); not a parameter.
  public let probe = AttentionProbe()

  package init(_ c: Int, contextDim: Int, heads: Int, _ i: inout Init) {
    q = Linear(c, c, bias: false, &i)
    kv = Linear(contextDim, 2 * c, bias: false, &i)
    qBias = i.constant([c], 0)
    vBias = i.constant([c], 0)
    proj = Linear(c, c, &i)
    self.heads = heads
  }

  /// x (B, Nq, C), context (B, Nk, Cctx) -> (B, Nq, C).
  public func callAsFunction(_ x: Tensor, context: Tensor) throws -> Tensor {
    let c = qBias.count
    guard x.rank == 3, context.rank == 3, x.shape[0] == context.shape[0] else {
      throw TensorError.shapeMismatch(op: "cross-attention", lhs: x.shape, rhs: context.shape)
    }
    let qOut = try x.linear(q.weight, qBias)  // (B, Nq, C)
    let kvBias = try Tensor.concat([Tensor.zeros([c], dtype: x.dtype), vBias], axis: 0)
    let kvOut = try context.linear(kv.weight, kvBias)  // (B, Nk, 2C): [k | v]
    let d = c / heads
    let (out, probs) = try Tensor.multiHeadAttention(
      q: .init(qOut), k: .init(kvOut, offset: 0), v: .init(kvOut, offset: c),
      heads: heads, headDim: d, scale: 1 / Double(d).squareRoot())  // (B, Nq, C), (B, H, Nq, Nk)
    if probe.keep { probe.last = probs }
    return try proj(out)
  }
}

/// Holds an attention layer's last probabilities (B, H, Nq, Nk) while `keep` is on. A class of its
/// own so that parameter reflection does not mistake the kept tensor for a weight.
public final class AttentionProbe {
  /// Whether the next forward pass keeps its probabilities.
  public var keep = false
  /// The probabilities of the last forward pass, detached.
  public var last: Tensor?
}
