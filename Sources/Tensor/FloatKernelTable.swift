import KernelsX86V3
import KernelsX86V4

/// The engine's own Float kernels of one level (the same source compiled for x86-64-v3 and for
/// x86-64-v4): each is serial over the range its caller's thread split gives.
package struct FloatKernelTable: Sendable {
  /// The level these kernels were compiled for.
  package let level: KernelLevel
  /// GELU over 16-lane chunks (x, y, n, first chunk, end chunk).
  package let gelu: @Sendable (UnsafeRawPointer, UnsafeMutableRawPointer, Int, Int, Int) -> Void
  /// eˣ over 16-lane chunks.
  package let exp: @Sendable (UnsafeRawPointer, UnsafeMutableRawPointer, Int, Int, Int) -> Void
  /// Sigmoid over 16-lane chunks.
  package let sigmoid: @Sendable (UnsafeRawPointer, UnsafeMutableRawPointer, Int, Int, Int) -> Void
  /// GELU backward over 16-lane chunks (x, gy, gx, n, first chunk, end chunk).
  package let geluBackward:
    @Sendable (UnsafeRawPointer, UnsafeRawPointer, UnsafeMutableRawPointer, Int, Int, Int) -> Void
  /// LayerNorm forward of a row range (cols a multiple of 16).
  package let layerNormForward:
    @Sendable (
      UnsafeRawPointer, UnsafeRawPointer, UnsafeRawPointer, UnsafeMutableRawPointer,
      UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, Int, Float, Int, Int
    ) -> Void
  /// LayerNorm backward of a row range into per-range weight and bias partial sums.
  package let layerNormBackward:
    @Sendable (
      UnsafeRawPointer, UnsafeRawPointer, UnsafeRawPointer, UnsafePointer<Float>,
      UnsafePointer<Float>, UnsafeMutableRawPointer, UnsafeMutableRawPointer,
      UnsafeMutableRawPointer, Int, Int, Int
    ) -> Void
  /// softmax(scale · x) of a row range.
  package let softmaxForward:
    @Sendable (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int, Float, Int, Int) -> Void
  /// The softmax's backward of a row range.
  package let softmaxBackward:
    @Sendable (
      UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int, Float, Int, Int
    ) -> Void
  /// Σ (a − b)² over an index range, in Double.
  package let squaredDistance:
    @Sendable (UnsafePointer<Float>, UnsafePointer<Float>, Int, Int) -> Double
  /// out = k · (a − b) over an index range.
  package let scaledDifference:
    @Sendable (
      UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Float, Int, Int
    )
      -> Void
  /// AdamW over Float weights.
  package let adamWFloat:
    @Sendable (
      UnsafeMutablePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Double>,
      UnsafeMutablePointer<Double>, Int, AdamWConstants
    ) -> Void
  /// AdamW over Double weights.
  package let adamWDouble:
    @Sendable (
      UnsafeMutablePointer<Double>, UnsafePointer<Double>, UnsafeMutablePointer<Double>,
      UnsafeMutablePointer<Double>, Int, AdamWConstants
    ) -> Void

  /// The x86-64-v3 build.
  package static let v3 = FloatKernelTable(
    level: .v3, gelu: KernelsX86V3.geluChunks, exp: KernelsX86V3.expChunks,
    sigmoid: KernelsX86V3.sigmoidChunks, geluBackward: KernelsX86V3.geluBackwardChunks,
    layerNormForward: KernelsX86V3.layerNormForwardRows,
    layerNormBackward: KernelsX86V3.layerNormBackwardRows,
    softmaxForward: KernelsX86V3.softmaxForwardRows,
    softmaxBackward: KernelsX86V3.softmaxBackwardRows,
    squaredDistance: KernelsX86V3.squaredDistance,
    scaledDifference: KernelsX86V3.scaledDifference, adamWFloat: KernelsX86V3.adamW,
    adamWDouble: KernelsX86V3.adamW)

  /// The x86-64-v4 build: only ever called on a CPU that runs it.
  package static let v4 = FloatKernelTable(
    level: .v4, gelu: KernelsX86V4.geluChunks, exp: KernelsX86V4.expChunks,
    sigmoid: KernelsX86V4.sigmoidChunks, geluBackward: KernelsX86V4.geluBackwardChunks,
    layerNormForward: KernelsX86V4.layerNormForwardRows,
    layerNormBackward: KernelsX86V4.layerNormBackwardRows,
    softmaxForward: KernelsX86V4.softmaxForwardRows,
    softmaxBackward: KernelsX86V4.softmaxBackwardRows,
    squaredDistance: KernelsX86V4.squaredDistance,
    scaledDifference: KernelsX86V4.scaledDifference, adamWFloat: KernelsX86V4.adamW,
    adamWDouble: KernelsX86V4.adamW)

  /// The table of a level.
  package static func of(_ level: KernelLevel) -> FloatKernelTable { level == .v4 ? v4 : v3 }

  /// The table of `KernelLevel.active`.
  package static let active = of(KernelLevel.active)
}

/// AdamW's step constants (β1, β2, 1 − β1ᵗ, 1 − β2ᵗ, ε, decay factor, lr).
public typealias AdamWConstants = KernelsX86V3.AdamWConstants

extension Tensor {
  /// One AdamW update of this parameter in place from `grad` (same shape and dtype) and its Double
  /// moments `m`, `v` (count elements each), all arithmetic in Double, at the active kernel level.
  public func adamWUpdate(
    grad: Tensor, m: UnsafeMutablePointer<Double>, v: UnsafeMutablePointer<Double>,
    _ constants: AdamWConstants
  ) {
    let t = FloatKernelTable.active
    if dtype == .float32 {
      t.adamWFloat(pointer(Float.self), grad.pointer(Float.self), m, v, count, constants)
    } else {
      t.adamWDouble(pointer(Double.self), grad.pointer(Double.self), m, v, count, constants)
    }
  }
}
