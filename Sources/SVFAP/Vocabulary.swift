import Tensor

/// The words of the model layer's vocabulary, as types (the workbench and the command line read
/// them from strings with `init(rawValue:)` and list them with `allCases`).

/// What a model is built for.
public enum ModelTask: String, CaseIterable, Codable, Sendable {
  /// The masked autoencoder (encoder + decoder).
  case pretrain
  /// The classifier/regressor (encoder + fc_norm + head).
  case finetune
}

/// The activation after a fine-tuning head (the authors' `head_activation_func`).
public enum HeadActivation: String, CaseIterable, Codable, Sendable {
  /// (0, 1): personality traits.
  case sigmoid
  /// (−1, 1): arousal and valence.
  case tanh
  /// [0, ∞).
  case relu
}

/// The loss of a regression fine-tuning run.
public enum RegressionLoss: String, CaseIterable, Codable, Sendable {
  /// Mean squared error.
  case mse
  /// 1 − mean CCC over the targets (computed over the batch).
  case ccc
}

/// How masked tubelets are chosen.
public enum MaskKind: String, CaseIterable, Codable, Sendable {
  /// One random spatial pattern per clip, the same in every time slice (the paper's).
  case tube
  /// An independent pattern in each time slice (same count per slice).
  case random
}

/// The precision of a model's parameters and arithmetic.
public enum Precision: String, CaseIterable, Codable, Sendable {
  /// Single precision (training and inference).
  case float32
  /// Double precision (exact cross-checks: gradients, parity, data-parallel equivalence).
  case float64

  /// The tensor element type.
  public var dtype: DType { self == .float32 ? .float32 : .float64 }
}

/// Which pretraining forward a model runs.
public enum ModelVariant: String, CaseIterable, Codable, Sendable {
  /// The authors' released code as published: the reverse cross-self block of stages 2–3 attends to
  /// every tubelet's embedding, masked ones included (context = x), and the multi-scale fusion
  /// reshapes with the pre-downsampling length before repeating in time.
  case released
  /// The released code with only the context fixed (the reverse block attends to the bottleneck
  /// tokens); the temporal up-sampling defect kept.
  case releasedContextFixed = "released-context-fixed"
}
