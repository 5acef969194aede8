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
  let (b, ch, p, kt) = (video.shape[0], c.inChans, c.patchSize, c.tubelet)
  let g = c.gridSide
  let nm = mask.masked.first?.count ?? 0
  let per = kt * p * p
  let out = Tensor.zeros([b, nm, per * ch], dtype: video.dtype)
  let v = video.toDoubles()
  let single = video.dtype == .float32
  let (hh, ww, frames) = (c.imgSize, c.imgSize, c.frames)
  var patch = [Double](repeating: 0, count: per)
  var values = [Double](repeating: 0, count: per * ch)
  for bi in 0..<b {
    for (j, n) in mask.masked[bi].enumerated() {
      let (ti, hi, wi) = (n / (g * g), (n / g) % g, n % g)
      for cc in 0..<ch {
        let mean = Double(imagenetMean[cc % 3]), std = Double(imagenetStd[cc % 3])
        var k = 0
        for dt in 0..<kt {
          for dh in 0..<p {
            let base = (((bi * ch + cc) * frames + ti * kt + dt) * hh + hi * p + dh) * ww + wi * p
            for dw in 0..<p {
              // Un-normalize in the clip's precision with float32 constants, as the authors' code
              // does.
              patch[k] =
                single
                ? Double(Float(v[base + dw]) * Float(std) + Float(mean)) : v[base + dw] * std + mean
              k += 1
            }
          }
        }
        let m = patch.reduce(0, +) / Double(per)
        let variance = patch.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(per - 1)
        let denom = variance.squareRoot() + 1e-6
        for k in 0..<per { values[k * ch + cc] = (patch[k] - m) / denom }
      }
      for (k, x) in values.enumerated() { out[flat: (bi * nm + j) * per * ch + k] = x }
    }
  }
  return out
}
