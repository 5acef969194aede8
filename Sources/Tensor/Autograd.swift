import Glibc

/// One recorded op: its inputs and the rule that maps the output's gradient to the inputs'
/// gradients.
final class Node {
  /// The op's inputs, in the order the backward rule returns their gradients.
  let inputs: [Tensor]
  /// Output gradient -> input gradients (nil where an input needs none). Dropped after use.
  var backward: ((Tensor) throws -> [Tensor?])?

  init(inputs: [Tensor], backward: @escaping (Tensor) throws -> [Tensor?]) {
    self.inputs = inputs
    self.backward = backward
  }
}

/// Whether ops record a graph (off inside `withNoGrad`). Per thread, so that concurrent sessions
/// and tests do not switch each other's recording off.
public enum GradMode {
  private static let key: pthread_key_t = {
    var k = pthread_key_t()
    pthread_key_create(&k, nil)
    return k
  }()

  /// Recording is on unless this thread is inside `withNoGrad`.
  static var enabled: Bool {
    get { pthread_getspecific(key) == nil }
    set { pthread_setspecific(key, newValue ? nil : UnsafeRawPointer(bitPattern: 1)) }
  }
}

/// Runs `body` without recording a graph (inference, optimizer updates, backward rules).
public func withNoGrad<R>(_ body: () throws -> R) rethrows -> R {
  let old = GradMode.enabled
  GradMode.enabled = false
  defer { GradMode.enabled = old }
  return try body()
}

extension Tensor {
  /// Attaches a backward rule to `out` when a graph is recorded and any input needs a gradient.
  @discardableResult
  func record(_ out: Tensor, _ inputs: [Tensor], _ backward: @escaping (Tensor) throws -> [Tensor?])
    -> Tensor
  {
    if GradMode.enabled && inputs.contains(where: { $0.requiresGrad }) {
      out.requiresGrad = true
      out.node = Node(inputs: inputs, backward: backward)
    }
    return out
  }

  /// Computes d self / d leaf for every leaf that requires a gradient and adds it into `leaf.grad`.
  /// `self` must be a scalar unless `gradient` (d loss / d self) is given. The graph is freed as it
  /// is walked, so intermediate buffers are released as soon as they are no longer needed.
  public func backward(_ gradient: Tensor? = nil) throws {
    guard requiresGrad else {
      throw TensorError.autograd("backward() on a tensor that does not require grad")
    }
    let seed: Tensor
    if let g = gradient {
      guard g.shape == shape else {
        throw TensorError.shapeMismatch(op: "backward", lhs: shape, rhs: g.shape)
      }
      seed = g.dtype == dtype ? g : g.to(dtype)
    } else {
      guard count == 1 else {
        throw TensorError.autograd(
          "backward() without a gradient needs a scalar, got shape \(shape)")
      }
      seed = Tensor.ones(shape, dtype: dtype)
    }
    // Topological order by iterative depth-first search.
    var order: [Tensor] = []
    var visited = Set<ObjectIdentifier>()
    var stack: [(Tensor, Bool)] = [(self, false)]
    while let (t, expanded) = stack.popLast() {
      if expanded {
        order.append(t)
        continue
      }
      if !visited.insert(ObjectIdentifier(t)).inserted { continue }
      stack.append((t, true))
      if let n = t.node {
        for i in n.inputs where i.requiresGrad && !visited.contains(ObjectIdentifier(i)) {
          stack.append((i, false))
        }
      }
    }
    var grads: [ObjectIdentifier: Tensor] = [ObjectIdentifier(self): seed]
    try withNoGrad {
      for t in order.reversed() {
        guard let g = grads.removeValue(forKey: ObjectIdentifier(t)) else { continue }
        guard let node = t.node, let rule = node.backward else {
          if t.requiresGrad { t.grad = try t.grad.map { try $0 + g } ?? g.detached() }
          continue
        }
        let inputGrads = try rule(g)
        node.backward = nil
        t.node = nil
        for (input, gi) in zip(node.inputs, inputGrads) {
          guard let gi, input.requiresGrad else { continue }
          let id = ObjectIdentifier(input)
          grads[id] = try grads[id].map { try $0 + gi } ?? gi
        }
      }
    }
  }
}
