/// A layer or model. Parameters are found by reflection over stored properties (as mlx-swift does):
/// a `Tensor` property is a parameter, a `Module` property (or an array or optional of them) is a
/// child. Reflection keeps each layer's declaration the only list of its weights, so nothing can
/// forget to register one; names are the property names in snake_case (`crossNorm1` ->
/// `cross_norm1`), which are exactly PyTorch's state_dict names of the SVFAP modules, and array
/// elements are numbered (`blocks.3.attn.qkv.weight`).
open class Module {
  /// Training mode (dropout and drop-path active) or evaluation mode.
  public var training = true

  /// A module with no parameters of its own.
  public init() {}

  /// Every parameter with its dotted name, in declaration order.
  public func namedParameters(prefix: String = "") -> [(name: String, tensor: Tensor)] {
    var out: [(String, Tensor)] = []
    visit(prefix: prefix, tensor: { out.append(($0, $1)) }, module: { _, _ in })
    return out
  }

  /// Every parameter tensor.
  public func parameters() -> [Tensor] { namedParameters().map(\.tensor) }

  /// Every sub-module (self first) with its dotted name.
  public func namedModules(prefix: String = "") -> [(name: String, module: Module)] {
    var out: [(String, Module)] = [(prefix, self)]
    visit(prefix: prefix, tensor: { _, _ in }, module: { out.append(($0, $1)) })
    return out
  }

  /// Total number of parameter elements.
  public var parameterCount: Int { parameters().reduce(0) { $0 + $1.count } }

  /// Sets training mode on this module and every sub-module.
  public func train(_ on: Bool = true) { for (_, m) in namedModules() { m.training = on } }

  /// A name -> tensor map of the parameters (shares the tensors).
  public func stateDict() -> [String: Tensor] {
    Dictionary(namedParameters().map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
  }

  /// Makes every parameter require (or not) a gradient.
  public func requireGrad(_ on: Bool = true) { for p in parameters() { p.requiresGrad = on } }

  /// Drops every accumulated gradient.
  public func zeroGrad() { for p in parameters() { p.grad = nil } }

  /// Copies values from `state` into the parameters of the same name. Every shape must match;
  /// returns the names this module has that `state` lacks (`missing`) and the names of `state` it
  /// does not use.
  @discardableResult
  public func load(_ state: [String: Tensor], strict: Bool = true) throws -> (
    missing: [String], unexpected: [String]
  ) {
    let mine = namedParameters()
    // NaN or Inf weights (a diverged run's file, a corrupt one) are refused before anything is
    // copied, naming the tensors and how many values: the model keeps its weights.
    let bad = mine.compactMap { name, _ -> String? in
      guard let n = state[name]?.nonFiniteCount(), n > 0 else { return nil }
      return "\(name) (\(n) of \(state[name]?.count ?? 0))"
    }
    if !bad.isEmpty {
      throw TensorError.invalidArgument(
        op: "load",
        message:
          "the checkpoint holds NaN or Inf in \(bad.count) tensor(s): \(bad.prefix(5).joined(separator: ", "))\(bad.count > 5 ? ", …" : ""); the model keeps its weights"
      )
    }
    var missing: [String] = []
    for (name, p) in mine {
      guard let src = state[name] else {
        missing.append(name)
        continue
      }
      guard src.shape == p.shape else {
        throw TensorError.invalidArgument(
          op: "load",
          message:
            "tensor '\(name)' has shape \(src.shape) in the checkpoint but \(p.shape) in the model")
      }
      try p.assign(src)
    }
    let names = Set(mine.map(\.name))
    let unexpected = state.keys.filter { !names.contains($0) }.sorted()
    if strict && (!missing.isEmpty || !unexpected.isEmpty) {
      throw TensorError.invalidArgument(
        op: "load", message: "missing \(missing.prefix(5)) unexpected \(unexpected.prefix(5))")
    }
    return (missing, unexpected)
  }

  private func visit(
    prefix: String, tensor: (String, Tensor) -> Void, module: (String, Module) -> Void
  ) {
    var mirror: Mirror? = Mirror(reflecting: self)
    var mirrors: [Mirror] = []
    while let m = mirror {
      mirrors.insert(m, at: 0)
      mirror = m.superclassMirror
    }
    for m in mirrors {
      for child in m.children {
        guard let label = child.label, label != "training" else { continue }
        let name =
          (prefix.isEmpty ? "" : prefix + ".")
          + Module.snakeCase(label.hasPrefix("_") ? String(label.dropFirst()) : label)
        Module.walk(child.value, name, tensor, module)
      }
    }
  }

  private static func walk(
    _ value: Any, _ name: String, _ tensor: (String, Tensor) -> Void,
    _ module: (String, Module) -> Void
  ) {
    switch value {
    case let t as Tensor: tensor(name, t)
    case let m as Module:
      module(name, m)
      m.visit(prefix: name, tensor: tensor, module: module)
    case let list as [Module]:
      for (i, m) in list.enumerated() { walk(m, "\(name).\(i)", tensor, module) }
    case let list as [Tensor]:
      for (i, t) in list.enumerated() { tensor("\(name).\(i)", t) }
    default:
      let m = Mirror(reflecting: value)
      if m.displayStyle == .optional, let inner = m.children.first {
        walk(inner.value, name, tensor, module)
      }
    }
  }

  /// camelCase -> snake_case, digits kept in place (`crossNorm1` -> `cross_norm1`).
  static func snakeCase(_ s: String) -> String {
    var out = ""
    for ch in s {
      if ch.isUppercase { out += "_" + ch.lowercased() } else { out.append(ch) }
    }
    return out
  }
}
