import Foundation
import Media
import SafeFiles
import Tensor

/// Procedural talking faces for experiments without a dataset: each identity has a skin tone, face
/// shape, hair, background and five trait scores in [0, 1]; each clip shows one of seven
/// expressions with an onset-apex-offset time course, blinks, head motion, lighting changes and
/// pixel noise, plus a continuous valence/arousal label. Traits shape behaviour (extraversion:
/// motion and intensity, neuroticism: blinking, openness: brow raise, agreeableness: smile,
/// conscientiousness: steadiness).
public enum SyntheticFaces {
  /// The seven basic expressions (DFEW's classes, in its order).
  public static let expressions = [
    "neutral", "happy", "sad", "surprise", "fear", "disgust", "anger",
  ]
  /// Trait names (Big Five).
  public static let traits = [
    "openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism",
  ]

  /// One identity.
  public struct Identity: Sendable {
    let skin: (Double, Double, Double), hair: (Double, Double, Double),
      bg1: (Double, Double, Double), bg2: (Double, Double, Double)
    let faceW: Double, faceH: Double, eyeGap: Double
    /// Big Five scores in [0, 1].
    public let traits: [Double]

    /// A random identity.
    public init(rng: inout SplitMix64) {
      func u(_ a: Double, _ b: Double) -> Double { a + (b - a) * rng.nextDouble() }
      let tone = u(0.25, 0.95)
      skin = (u(0.55, 0.75) * tone + 0.2, u(0.4, 0.6) * tone + 0.15, u(0.3, 0.5) * tone + 0.1)
      hair = (u(0, 0.5), u(0, 0.35), u(0, 0.25))
      bg1 = (u(0.1, 0.9), u(0.1, 0.9), u(0.1, 0.9))
      bg2 = (u(0.1, 0.9), u(0.1, 0.9), u(0.1, 0.9))
      faceW = u(0.26, 0.33)
      faceH = u(0.34, 0.41)
      eyeGap = u(0.10, 0.13)
      traits = (0..<5).map { _ in rng.nextDouble() }
    }
  }

  /// Per-expression targets at full intensity: eye opening, brow raise, brow tilt (inner up +),
  /// mouth curve (smile +), mouth opening, mouth width, nose wrinkle; and valence, arousal.
  static let shapes: [[Double]] = [
    [1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0, 0.0, -0.2],
    [0.75, 0.05, 0.0, 1.0, 0.25, 1.3, 0, 0.8, 0.5],
    [0.85, 0.05, 0.8, -0.8, 0.0, 0.9, 0, -0.7, -0.4],
    [1.45, 0.6, 0.0, 0.0, 1.0, 0.8, 0, 0.2, 0.8],
    [1.35, 0.4, 0.7, -0.3, 0.5, 1.1, 0, -0.6, 0.7],
    [0.6, -0.25, -0.3, -0.5, 0.15, 1.0, 1, -0.6, 0.3],
    [0.8, -0.45, -0.9, -0.2, 0.05, 0.8, 0, -0.7, 0.8],
  ]

  /// A clip's labels.
  public struct Labels: Sendable {
    /// Expression class index.
    public let expression: Int
    /// Peak intensity in (0, 1].
    public let intensity: Double
    /// Valence and arousal in [-1, 1].
    public let valence: Double, arousal: Double
  }

  /// Renders `frames` RGB24 frames (size × size) of `identity` showing `expression`.
  public static func render(
    identity id: Identity, expression e: Int, frames: Int, size: Int, noise: Double = 0.04,
    rng: inout SplitMix64
  ) -> (
    frames: [[UInt8]], labels: Labels
  ) {
    let (o, c, x, a, n) = (id.traits[0], id.traits[1], id.traits[2], id.traits[3], id.traits[4])
    let peak = min(1, 0.45 + 0.35 * rng.nextDouble() + 0.2 * x)
    let onset = 0.05 + 0.1 * rng.nextDouble(), apex = onset + 0.15 + 0.1 * rng.nextDouble(),
      offset = 0.75 + 0.15 * rng.nextDouble()
    let motion = 0.01 + 0.03 * x * (1.2 - c), phase = 6.28 * rng.nextDouble(),
      light = 0.15 * rng.nextDouble()
    let blinkEvery = Int(40 - 25 * n), blinkAt = Int(rng.next() % UInt64(max(blinkEvery, 1)))
    let shape = shapes[e]
    let valence = max(
      -1, min(1, shape[7] * peak + 0.1 * (rng.nextDouble() - 0.5) * 2 + 0.1 * (a - 0.5)))
    let arousal = max(
      -1, min(1, shape[8] * peak + 0.1 * (rng.nextDouble() - 0.5) * 2 + 0.1 * (x - 0.5)))
    var out: [[UInt8]] = []
    for f in 0..<frames {
      let t = Double(f) / Double(max(frames - 1, 1))
      func smooth(_ v: Double) -> Double {
        let s = min(max(v, 0), 1)
        return s * s * (3 - 2 * s)
      }
      let k =
        peak
        * (t < apex
          ? smooth((t - onset) / max(apex - onset, 1e-3)) : 1 - smooth((t - offset) / 0.2))
      func mix(_ i: Int, _ neutral: Double) -> Double { neutral + (shape[i] - neutral) * k }
      var eyeOpen = mix(0, 1), browRaise = mix(1, 0) + 0.1 * (o - 0.5), browTilt = mix(2, 0)
      let curve = mix(3, 0) + 0.25 * (a - 0.5), mouthOpen = mix(4, 0), mouthWidth = mix(5, 1),
        wrinkle = shape[6] * k
      if (f + blinkAt) % max(blinkEvery, 2) < 2 { eyeOpen *= 0.1 }
      browRaise = max(-0.6, browRaise)
      let cx = 0.5 + motion * sin(phase + 0.35 * Double(f)),
        cy = 0.52 + 0.6 * motion * cos(phase + 0.27 * Double(f))
      let bright = 1 + light * sin(phase + 0.2 * Double(f))
      out.append(
        draw(
          id, size: size, cx: cx, cy: cy, eyeOpen: eyeOpen, browRaise: browRaise,
          browTilt: browTilt, curve: curve,
          mouthOpen: mouthOpen, mouthWidth: mouthWidth, wrinkle: wrinkle, bright: bright,
          noise: noise, rng: &rng))
    }
    return (out, Labels(expression: e, intensity: peak, valence: valence, arousal: arousal))
  }

  static func draw(
    _ id: Identity, size: Int, cx: Double, cy: Double, eyeOpen: Double, browRaise: Double,
    browTilt: Double, curve: Double,
    mouthOpen: Double, mouthWidth: Double, wrinkle: Double, bright: Double, noise amplitude: Double,
    rng: inout SplitMix64
  ) -> [UInt8] {
    var img = [UInt8](repeating: 0, count: size * size * 3)
    let s = Double(size)
    let (fw, fh) = (id.faceW, id.faceH)
    let eyeY = cy - 0.12, eyeRx = 0.045, eyeRy = 0.028 * eyeOpen
    let browY = eyeY - 0.065 - 0.07 * browRaise
    let mouthY = cy + 0.19, mouthHalf = 0.09 * mouthWidth
    for py in 0..<size {
      let y = (Double(py) + 0.5) / s
      for px in 0..<size {
        let xx = (Double(px) + 0.5) / s
        // Background gradient.
        var col = (
          id.bg1.0 + (id.bg2.0 - id.bg1.0) * y, id.bg1.1 + (id.bg2.1 - id.bg1.1) * y,
          id.bg1.2 + (id.bg2.2 - id.bg1.2) * y
        )
        let dx = (xx - cx) / fw, dy = (y - cy) / fh
        let head = dx * dx + dy * dy
        // Hair: a larger ellipse above the head.
        let hx = (xx - cx) / (fw * 1.08), hy = (y - cy + 0.03) / (fh * 1.05)
        if hx * hx + hy * hy < 1 && y < cy - 0.1 * fh { col = id.hair }
        if head < 1 {
          let shade = 0.85 + 0.25 * (0.5 - dx * 0.5) - 0.1 * dy * dy
          col = (id.skin.0 * shade, id.skin.1 * shade, id.skin.2 * shade)
          // Eyes: white with a dark iris; lids close with eyeOpen.
          for side in [-1.0, 1.0] {
            let ex = (xx - (cx + side * id.eyeGap)) / eyeRx, ey = (y - eyeY) / max(eyeRy, 1e-4)
            if ex * ex + ey * ey < 1 {
              let ir = (xx - (cx + side * id.eyeGap)) / 0.018
              col =
                ir * ir + ey * ey * (eyeRy / 0.018) * (eyeRy / 0.018) < 1
                ? (0.12, 0.08, 0.05) : (0.95, 0.95, 0.93)
            }
            // Brows: tilted bars; inner ends move with browTilt.
            let bx = (xx - (cx + side * id.eyeGap)) / 0.06
            if abs(bx) < 1 {
              let inner = -side * bx  // 1 at the inner end
              let by = browY - 0.035 * browTilt * inner
              if abs(y - by) < 0.016 { col = (id.hair.0 * 0.8, id.hair.1 * 0.8, id.hair.2 * 0.8) }
            }
          }
          // Nose, with wrinkles for disgust.
          if abs(xx - cx) < 0.012 && y > eyeY + 0.03 && y < mouthY - 0.06 {
            col = (col.0 * 0.8, col.1 * 0.8, col.2 * 0.8)
          }
          if wrinkle > 0.2 && abs(y - (eyeY + 0.05)) < 0.006 && abs(abs(xx - cx) - 0.03) < 0.015 {
            col = (col.0 * 0.75, col.1 * 0.75, col.2 * 0.75)
          }
          // Mouth: a curved lip line, opening into a dark ellipse.
          let mx = (xx - cx) / mouthHalf
          if abs(mx) < 1 {
            let lip = mouthY - 0.06 * curve * (mx * mx - 0.5)
            let openH = 0.08 * mouthOpen * (1 - mx * mx)
            if y > lip - 0.01 - openH / 2 && y < lip + 0.01 + openH / 2 {
              col =
                openH > 0.01 && abs(y - lip) < openH / 2
                ? (0.25, 0.05, 0.05) : (0.6 * id.skin.0, 0.3 * id.skin.1, 0.3 * id.skin.2)
            }
          }
        }
        let noise = amplitude * (rng.nextDouble() - 0.5)
        let p = (py * size + px) * 3
        img[p] = UInt8(max(0, min(255, (col.0 * bright + noise) * 255)))
        img[p + 1] = UInt8(max(0, min(255, (col.1 * bright + noise) * 255)))
        img[p + 2] = UInt8(max(0, min(255, (col.2 * bright + noise) * 255)))
      }
    }
    return img
  }

  /// Writes a synthetic dataset: `identities` people × 7 expressions × `clipsPerExpression` videos
  /// under out/videos, and manifests for pretraining (unlabeled.csv), classification
  /// (expressions.csv), dimensional regression (dimensional.csv) and traits (traits.csv); each row
  /// also names the identity, so splits can be subject-independent; `noise` is the amplitude of the
  /// per-pixel noise (0…1 of the pixel range). Returns the number of videos.
  @discardableResult
  public static func writeDataset(
    to out: String, identities: Int, clipsPerExpression: Int, frames: Int, size: Int, seed: UInt64,
    codec: String = "h264", testIdentities: Int = 0, noise: Double = 0.04,
    progress: (Int, Int) -> Void = { _, _ in }
  ) throws -> Int {
    // With testIdentities > 0, the last identities form the test split (subject-independent).
    let split = testIdentities > 0
    func splitCell(_ p: Int) -> String {
      split ? (p >= identities - testIdentities ? ",test" : ",train") : ""
    }
    let fm = FileManager.default
    try fm.createDirectory(atPath: out + "/videos", withIntermediateDirectories: true)
    var rng = SplitMix64(seed: seed)
    let people = (0..<identities).map { _ in Identity(rng: &rng) }
    let sc = split ? ",split" : ""
    var unlabeled = "path,identity\(sc)\n", classes = "path,label,identity\(sc)\n",
      dims = "path,valence,arousal,identity\(sc)\n"
    var traitsCSV = "path," + traits.joined(separator: ",") + ",identity\(sc)\n"
    let total = identities * expressions.count * clipsPerExpression
    var done = 0
    for (p, person) in people.enumerated() {
      for e in 0..<expressions.count {
        for k in 0..<clipsPerExpression {
          let name = String(
            format: "videos/id%02d_%@_%02d.%@", p, expressions[e], k,
            codec == "mpeg4" ? "avi" : "mp4")
          var clipRng = SplitMix64(seed: rng.next())
          let (frameList, labels) = render(
            identity: person, expression: e, frames: frames, size: size, noise: noise, rng: &clipRng
          )
          let writer = try VideoWriter(
            path: out + "/" + name, width: size, height: size, fps: 25, codec: codec)
          for f in frameList { try writer.write(rgb: f) }
          try writer.finish()
          unlabeled += "\(name),\(p)\(splitCell(p))\n"
          classes += "\(name),\(e),\(p)\(splitCell(p))\n"
          dims +=
            String(format: "%@,%.4f,%.4f,%d", name, labels.valence, labels.arousal, p)
            + splitCell(p) + "\n"
          traitsCSV +=
            name + "," + person.traits.map { String(format: "%.4f", $0) }.joined(separator: ",")
            + ",\(p)\(splitCell(p))\n"
          done += 1
          progress(done, total)
        }
      }
    }
    for (file, text) in [
      ("unlabeled.csv", unlabeled), ("expressions.csv", classes), ("dimensional.csv", dims),
      ("traits.csv", traitsCSV),
    ] {
      try SafeFile.writeAtomically(Data(text.utf8), to: out + "/" + file)
    }
    return total
  }
}
