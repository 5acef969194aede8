import Testing

@testable import Tensor

/// Central finite differences in Double: for a scalar function of some inputs, compares every
/// analytic gradient element with (f(x+h) - f(x-h)) / 2h and returns the worst relative error
/// |a - n| / max(1, |a|, |n|) over all inputs.
func gradCheck(_ inputs: [Tensor], h: Double = 1e-6, _ f: ([Tensor]) throws -> Tensor) throws
  -> Double
{
  for x in inputs {
    x.requiresGrad = true
    x.grad = nil
  }
  let loss = try f(inputs)
  try loss.backward()
  var worst = 0.0
  for x in inputs {
    let analytic = x.grad?.toDoubles() ?? [Double](repeating: 0, count: x.count)
    for i in 0..<x.count {
      let keep = x[flat: i]
      x[flat: i] = keep + h
      let up = try withNoGrad { try f(inputs).item() }
      x[flat: i] = keep - h
      let down = try withNoGrad { try f(inputs).item() }
      x[flat: i] = keep
      let numeric = (up - down) / (2 * h)
      let err = abs(analytic[i] - numeric) / max(1, abs(analytic[i]), abs(numeric))
      worst = max(worst, err)
    }
  }
  return worst
}

/// A random Double tensor.
func randD(_ shape: [Int], seed: UInt64 = 1, std: Double = 1) -> Tensor {
  var rng = SplitMix64(seed: seed)
  return Tensor.randn(shape, std: std, dtype: .float64, rng: &rng)
}

/// Reduces any output to a scalar with fixed random weights, so every output element matters.
func weighted(_ y: Tensor, seed: UInt64 = 99) throws -> Tensor {
  try (y * randD(y.shape, seed: seed)).sum()
}
