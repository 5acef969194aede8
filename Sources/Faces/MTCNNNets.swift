import Foundation

/// The weights of one MTCNN network by PyTorch state_dict name (facenet-pytorch's `pnet.pt`,
/// `rnet.pt`, `onet.pt`), as Float arrays with their shapes.
public struct NetWeights: Sendable {
  /// Values and shape by name.
  public let tensors: [String: (values: [Float], shape: [Int])]

  /// Weights from named arrays.
  public init(_ tensors: [String: (values: [Float], shape: [Int])]) { self.tensors = tensors }

  /// A tensor of the expected shape, or an error naming what the file holds instead.
  func take(_ name: String, _ shape: [Int], net: String) throws -> [Float] {
    guard let t = tensors[name] else {
      throw FaceError("\(net): the weights have no '\(name)'")
    }
    guard t.shape == shape, t.values.count == shape.reduce(1, *) else {
      throw FaceError("\(net): '\(name)' is \(t.shape), expected \(shape)")
    }
    return t.values
  }
}

/// A convolution's weights and bias, and its PReLU's slopes.
struct ConvUnit {
  let weight: [Float], bias: [Float], out: Int, kernel: Int, slopes: [Float]?

  init(
    _ w: NetWeights, _ name: String, prelu: String?, in c: Int, out o: Int, kernel k: Int,
    net: String
  )
    throws
  {
    weight = try w.take(name + ".weight", [o, c, k, k], net: net)
    bias = try w.take(name + ".bias", [o], net: net)
    slopes = try prelu.map { try w.take($0 + ".weight", [o], net: net) }
    (out, kernel) = (o, k)
  }

  func callAsFunction(_ x: Planes) -> Planes {
    var y = ConvLayers.conv2d(x, weight: weight, bias: bias, out: out, kernel: kernel)
    if let slopes { ConvLayers.prelu(&y, slopes: slopes) }
    return y
  }
}

/// A dense layer's weights and bias, and its PReLU's slopes.
struct DenseUnit {
  let weight: [Float], bias: [Float], fanIn: Int, fanOut: Int, slopes: [Float]?

  init(_ w: NetWeights, _ name: String, prelu: String?, in i: Int, out o: Int, net: String) throws {
    weight = try w.take(name + ".weight", [o, i], net: net)
    bias = try w.take(name + ".bias", [o], net: net)
    slopes = try prelu.map { try w.take($0 + ".weight", [o], net: net) }
    (fanIn, fanOut) = (i, o)
  }

  func callAsFunction(_ x: [Float], rows n: Int) -> [Float] {
    var y = ConvLayers.dense(x, rows: n, weight: weight, bias: bias, in: fanIn, out: fanOut)
    if let slopes { ConvLayers.prelu(&y, features: fanOut, slopes: slopes) }
    return y
  }
}

/// MTCNN's proposal network: fully convolutional over any image (≥ 12 × 12), a face probability
/// and a box regression per 12 × 12 window at stride 2.
public struct PNet: Sendable {
  let conv1: ConvUnit, conv2: ConvUnit, conv3: ConvUnit, score: ConvUnit, box: ConvUnit

  /// The network from facenet-pytorch's `pnet.pt` weights.
  public init(_ w: NetWeights) throws {
    conv1 = try ConvUnit(w, "conv1", prelu: "prelu1", in: 3, out: 10, kernel: 3, net: "P-Net")
    conv2 = try ConvUnit(w, "conv2", prelu: "prelu2", in: 10, out: 16, kernel: 3, net: "P-Net")
    conv3 = try ConvUnit(w, "conv3", prelu: "prelu3", in: 16, out: 32, kernel: 3, net: "P-Net")
    score = try ConvUnit(w, "conv4_1", prelu: nil, in: 32, out: 2, kernel: 1, net: "P-Net")
    box = try ConvUnit(w, "conv4_2", prelu: nil, in: 32, out: 4, kernel: 1, net: "P-Net")
  }

  /// (N, 3, H, W) normalized → box regression (N, 4, H', W') and probabilities (N, 2, H', W').
  public func callAsFunction(_ x: Planes) -> (box: Planes, probability: Planes) {
    let h = conv3(conv2(ConvLayers.maxPool(conv1(x), kernel: 2, stride: 2)))
    var p = score(h)
    ConvLayers.softmaxChannels(&p)
    return (box(h), p)
  }
}

/// MTCNN's refinement network on 24 × 24 crops: a face probability and a box regression each.
public struct RNet: Sendable {
  let conv1: ConvUnit, conv2: ConvUnit, conv3: ConvUnit, dense4: DenseUnit, score: DenseUnit,
    box: DenseUnit

  /// The network from facenet-pytorch's `rnet.pt` weights.
  public init(_ w: NetWeights) throws {
    conv1 = try ConvUnit(w, "conv1", prelu: "prelu1", in: 3, out: 28, kernel: 3, net: "R-Net")
    conv2 = try ConvUnit(w, "conv2", prelu: "prelu2", in: 28, out: 48, kernel: 3, net: "R-Net")
    conv3 = try ConvUnit(w, "conv3", prelu: "prelu3", in: 48, out: 64, kernel: 2, net: "R-Net")
    dense4 = try DenseUnit(w, "dense4", prelu: "prelu4", in: 576, out: 128, net: "R-Net")
    score = try DenseUnit(w, "dense5_1", prelu: nil, in: 128, out: 2, net: "R-Net")
    box = try DenseUnit(w, "dense5_2", prelu: nil, in: 128, out: 4, net: "R-Net")
  }

  /// (N, 3, 24, 24) normalized → box regression (N, 4) and probabilities (N, 2).
  public func callAsFunction(_ x: Planes) -> (box: [Float], probability: [Float]) {
    var h = ConvLayers.maxPool(conv1(x), kernel: 3, stride: 2)
    h = conv3(ConvLayers.maxPool(conv2(h), kernel: 3, stride: 2))  // (N, 64, 3, 3)
    let f = dense4(ConvLayers.flattenWHC(h), rows: x.n)
    var p = score(f, rows: x.n)
    ConvLayers.softmaxRows(&p, features: 2)
    return (box(f, rows: x.n), p)
  }
}

/// MTCNN's output network on 48 × 48 crops: a face probability, a box regression and five
/// landmarks each.
public struct ONet: Sendable {
  let conv1: ConvUnit, conv2: ConvUnit, conv3: ConvUnit, conv4: ConvUnit, dense5: DenseUnit,
    score: DenseUnit, box: DenseUnit, landmarks: DenseUnit

  /// The network from facenet-pytorch's `onet.pt` weights.
  public init(_ w: NetWeights) throws {
    conv1 = try ConvUnit(w, "conv1", prelu: "prelu1", in: 3, out: 32, kernel: 3, net: "O-Net")
    conv2 = try ConvUnit(w, "conv2", prelu: "prelu2", in: 32, out: 64, kernel: 3, net: "O-Net")
    conv3 = try ConvUnit(w, "conv3", prelu: "prelu3", in: 64, out: 64, kernel: 3, net: "O-Net")
    conv4 = try ConvUnit(w, "conv4", prelu: "prelu4", in: 64, out: 128, kernel: 2, net: "O-Net")
    dense5 = try DenseUnit(w, "dense5", prelu: "prelu5", in: 1152, out: 256, net: "O-Net")
    score = try DenseUnit(w, "dense6_1", prelu: nil, in: 256, out: 2, net: "O-Net")
    box = try DenseUnit(w, "dense6_2", prelu: nil, in: 256, out: 4, net: "O-Net")
    landmarks = try DenseUnit(w, "dense6_3", prelu: nil, in: 256, out: 10, net: "O-Net")
  }

  /// (N, 3, 48, 48) normalized → box regression (N, 4), landmarks (N, 10: five x then five y, in
  /// the crop's fractions) and probabilities (N, 2).
  public func callAsFunction(_ x: Planes) -> (
    box: [Float], landmarks: [Float], probability: [Float]
  ) {
    var h = ConvLayers.maxPool(conv1(x), kernel: 3, stride: 2)
    h = ConvLayers.maxPool(conv2(h), kernel: 3, stride: 2)
    h = ConvLayers.maxPool(conv3(h), kernel: 2, stride: 2)
    let f = dense5(ConvLayers.flattenWHC(conv4(h)), rows: x.n)  // (N, 128, 3, 3) → (N, 256)
    var p = score(f, rows: x.n)
    ConvLayers.softmaxRows(&p, features: 2)
    return (box(f, rows: x.n), landmarks(f, rows: x.n), p)
  }
}

/// A face detector's error, in words.
public struct FaceError: Error, CustomStringConvertible, Sendable {
  /// What went wrong.
  public let description: String
  /// An error saying `d`.
  public init(_ d: String) { description = d }
}
