import Tensor

/// ImageNet channel means, as float32 constants (the authors' IMAGENET_DEFAULT_MEAN).
public let imagenetMean: [Float] = [0.485, 0.456, 0.406]
/// ImageNet channel standard deviations.
public let imagenetStd: [Float] = [0.229, 0.224, 0.225]

/// The pretraining target of the masked tubelets: the clip un-normalized to [0, 1] pixels, each
/// tubelet's values normalized per channel over its tubelet·P·P pixels with the unbiased standard
/// deviation plus 1e-6, laid out (t, h, w, c). video (B, 3, T, H, W) -> (B, Nm, tubelet·P·P·3).
public func normalizedPixelTargets(_ video: Tensor, mask: TokenMask, config c: SVFAPConfig) throws
  -> Tensor
{
  try Profile.measure(.target) { try pixelTargets(video, mask: mask, config: c) }
}

/// `normalizedPixelTargets`' work, in the clip's precision.
private func pixelTargets(_ video: Tensor, mask: TokenMask, config c: SVFAPConfig) throws
  -> Tensor
{
  let out = Tensor.zeros(
    [video.shape[0], mask.masked.first?.count ?? 0, c.valuesPerTubelet], dtype: video.dtype)
  if video.dtype == .float32 {
    fillFloatTargets(video.pointer(Float.self), out.pointer(Float.self), video.shape[0], mask, c)
  } else {
    fillTargets(video.pointer(Double.self), out.pointer(Double.self), video.shape[0], mask, c)
  }
  return out
}

/// Reads each masked tubelet of clips `v` (B, 3, T, H, W) straight from memory, un-normalizes it
/// in T's precision with float32 constants (as the authors' code does), and writes its values
/// normalized per channel (Double statistics) into `out` (B, Nm, tubelet·P·P·3), laid out
/// (t, h, w, c).
private func fillTargets<T: BinaryFloatingPoint>(
  _ v: UnsafeMutablePointer<T>, _ out: UnsafeMutablePointer<T>, _ b: Int, _ mask: TokenMask,
  _ c: SVFAPConfig
) {
  let (ch, p, kt, g) = (c.inChans, c.patchSize, c.tubelet, c.gridSide)
  let nm = mask.masked.first?.count ?? 0
  let per = kt * p * p
  let (hh, ww, frames) = (c.imgSize, c.imgSize, c.frames)
  let single = T.self == Float.self
  var patch = [Double](repeating: 0, count: per)
  for bi in 0..<b {
    for (j, n) in mask.masked[bi].enumerated() {
      let (ti, hi, wi) = (n / (g * g), (n / g) % g, n % g)
      let row = out + (bi * nm + j) * per * ch
      for cc in 0..<ch {
        let meanF = imagenetMean[cc % 3], stdF = imagenetStd[cc % 3]
        let (mean, std) = (Double(meanF), Double(stdF))
        var k = 0, sum = 0.0
        for dt in 0..<kt {
          for dh in 0..<p {
            let base = (((bi * ch + cc) * frames + ti * kt + dt) * hh + hi * p + dh) * ww + wi * p
            for dw in 0..<p {
              let x = v[base + dw]
              let value =
                single ? Double(Float(x) * stdF + meanF) : Double(x) * std + mean
              patch[k] = value
              sum += value
              k += 1
            }
          }
        }
        let m = sum / Double(per)
        var squares = 0.0
        for k in 0..<per { squares += (patch[k] - m) * (patch[k] - m) }
        let denom = (squares / Double(per - 1)).squareRoot() + 1e-6
        for k in 0..<per { row[k * ch + cc] = T((patch[k] - m) / denom) }
      }
    }
  }
}

/// `fillTargets` for float32 clips with 16-pixel patches, the hot path of every pretraining step:
/// each tubelet row is one SIMD16 (un-normalized in Float as the authors' code does), row sums are
/// accumulated in Double, and the normalized values go straight out. Other patch sizes take the
/// generic path.
private func fillFloatTargets(
  _ v: UnsafeMutablePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ b: Int,
  _ mask: TokenMask, _ c: SVFAPConfig
) {
  let (ch, p, kt, g) = (c.inChans, c.patchSize, c.tubelet, c.gridSide)
  guard p == 16 else { return fillTargets(v, out, b, mask, c) }
  let nm = mask.masked.first?.count ?? 0
  let per = kt * p * p
  let (hh, ww, frames) = (c.imgSize, c.imgSize, c.frames)
  var rows = [SIMD16<Float>](repeating: .zero, count: kt * p)  // one channel of a tubelet
  for bi in 0..<b {
    for (j, n) in mask.masked[bi].enumerated() {
      let (ti, hi, wi) = (n / (g * g), (n / g) % g, n % g)
      let row = out + (bi * nm + j) * per * ch
      for cc in 0..<ch {
        let meanF = imagenetMean[cc % 3], stdF = imagenetStd[cc % 3]
        var sum = 0.0
        for dt in 0..<kt {
          for dh in 0..<p {
            let src =
              v + (((bi * ch + cc) * frames + ti * kt + dt) * hh + hi * p + dh) * ww + wi * p
            let x = UnsafeRawPointer(src).loadUnaligned(as: SIMD16<Float>.self) * stdF + meanF
            rows[dt * p + dh] = x
            sum += Double(x.sum())
          }
        }
        let m = sum / Double(per), mF = Float(m)
        var squares = 0.0
        for r in rows {
          let d = r - mF
          squares += Double((d * d).sum())
        }
        let denom = (squares / Double(per - 1)).squareRoot() + 1e-6
        let scale = Float(1 / denom)
        for (r, x) in rows.enumerated() {
          let y = (x - mF) * scale
          let base = row + r * p * ch + cc
          for dw in 0..<16 { base[dw * ch] = y[dw] }
        }
      }
    }
  }
}
