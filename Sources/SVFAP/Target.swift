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
  // Every value is written below (each masked tubelet, each channel, every pixel).
  let out = Tensor(
    uninitialized: [video.shape[0], mask.masked.first?.count ?? 0, c.valuesPerTubelet],
    dtype: video.dtype)
  if video.dtype == .float32 {
    fillFloatTargets(video.pointer(Float.self), out.pointer(Float.self), video.shape[0], mask, c)
  } else {
    fillTargets(video.pointer(Double.self), out.pointer(Double.self), video.shape[0], mask, c)
  }
  return out
}

/// Visits each channel of each masked tubelet of clips (B, 3, T, H, W): `body(rows, out)` gets the
/// offset in the clip of the tubelet's tubelet·P rows of P pixels (row r = dt·P + dh) and the offset
/// in the target (B, Nm, tubelet·P·P·3) of its first value of this channel (values of a channel are
/// 3 apart), with the channel.
@inline(__always)
private func forEachMaskedTubelet(
  _ b: Int, _ mask: TokenMask, _ c: SVFAPConfig,
  _ body: (_ rows: UnsafeBufferPointer<Int>, _ out: Int, _ channel: Int) -> Void
) {
  let (ch, p, kt, g) = (c.inChans, c.patchSize, c.tubelet, c.gridSide)
  let nm = mask.masked.first?.count ?? 0
  let (hh, ww, frames) = (c.imgSize, c.imgSize, c.frames)
  let rows = UnsafeMutableBufferPointer<Int>.allocate(capacity: kt * p)
  defer { rows.deallocate() }
  for bi in 0..<b {
    for (j, n) in mask.masked[bi].enumerated() {
      let (ti, hi, wi) = (n / (g * g), (n / g) % g, n % g)
      for cc in 0..<ch {
        for dt in 0..<kt {
          for dh in 0..<p {
            rows[dt * p + dh] =
              (((bi * ch + cc) * frames + ti * kt + dt) * hh + hi * p + dh) * ww + wi * p
          }
        }
        body(UnsafeBufferPointer(rows), (bi * nm + j) * kt * p * p * ch + cc, cc)
      }
    }
  }
}

/// Reads each masked tubelet of clips `v` (B, 3, T, H, W) straight from memory, un-normalizes it
/// in T's precision with float32 constants (as the authors' code does), and writes its values
/// normalized per channel (Double statistics) into `out` (B, Nm, tubelet·P·P·3), laid out
/// (t, h, w, c).
private func fillTargets<T: BinaryFloatingPoint>(
  _ v: UnsafeMutablePointer<T>, _ out: UnsafeMutablePointer<T>, _ b: Int, _ mask: TokenMask,
  _ c: SVFAPConfig
) {
  let (ch, p) = (c.inChans, c.patchSize)
  let per = c.tubelet * p * p
  let single = T.self == Float.self
  var patch = [Double](repeating: 0, count: per)
  forEachMaskedTubelet(b, mask, c) { rows, at, cc in
    let meanF = imagenetMean[cc % 3], stdF = imagenetStd[cc % 3]
    let (mean, std) = (Double(meanF), Double(stdF))
    var k = 0, sum = 0.0
    for base in rows {
      for dw in 0..<p {
        let x = v[base + dw]
        let value = single ? Double(Float(x) * stdF + meanF) : Double(x) * std + mean
        patch[k] = value
        sum += value
        k += 1
      }
    }
    let m = sum / Double(per)
    var squares = 0.0
    for k in 0..<per { squares += (patch[k] - m) * (patch[k] - m) }
    let denom = (squares / Double(per - 1)).squareRoot() + 1e-6
    for k in 0..<per { out[at + k * ch] = T((patch[k] - m) / denom) }
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
  let (ch, p) = (c.inChans, c.patchSize)
  guard p == 16 else { return fillTargets(v, out, b, mask, c) }
  let per = c.tubelet * p * p
  // One channel's rows: raw memory, so the closure below captures no variable (a captured `var`
  // array costs an exclusivity check and a uniqueness check on every write).
  let tubelet = UnsafeMutablePointer<SIMD16<Float>>.allocate(capacity: c.tubelet * p)
  defer { tubelet.deallocate() }
  forEachMaskedTubelet(b, mask, c) { rows, at, cc in
    let meanF = imagenetMean[cc % 3], stdF = imagenetStd[cc % 3]
    var sum = 0.0
    for (r, base) in rows.enumerated() {
      let x = UnsafeRawPointer(v + base).loadUnaligned(as: SIMD16<Float>.self) * stdF + meanF
      tubelet[r] = x
      sum += Double(x.sum())
    }
    let m = sum / Double(per), mF = Float(m)
    var squares = 0.0
    for r in 0..<rows.count {
      let d = tubelet[r] - mF
      squares += Double((d * d).sum())
    }
    let denom = (squares / Double(per - 1)).squareRoot() + 1e-6
    let scale = Float(1 / denom)
    for r in 0..<rows.count {
      let y = (tubelet[r] - mF) * scale
      let base = out + at + r * p * ch
      for dw in 0..<16 { base[dw * ch] = y[dw] }
    }
  }
}
