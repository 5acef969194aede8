import Script

/// Every command the workbench adds to the language, one type each (declaration + run), grouped as
/// `help` lists them.
enum WorkbenchCommands {
  /// The commands of session `s`.
  static func all(_ s: Session) -> [any ScriptCommand] {
    let model: [any ScriptCommand] = [
      BuildModel(session: s), CountFLOPs(), MakeMask(session: s, kind: .tube),
      MakeMask(session: s, kind: .random), NoiseClip(session: s),
      PretrainingLoss(session: s), Reconstruct(session: s), Predict(), SaveWeights(session: s),
      LoadWeights(session: s),
      InspectCheckpoint(session: s), CheckFixture(session: s), BenchModel(session: s),
    ]
    let session: [any ScriptCommand] = [
      SetSeed(session: s), SetSettings(session: s), RankValue(session: s), WorldSize(session: s),
    ]
    let video: [any ScriptCommand] = [
      Probe(session: s), FindFaces(session: s), ReadDataset(session: s), LoadClip(session: s),
      LoadManifestClips(session: s), Animate(session: s),
    ]
    let train: [any ScriptCommand] = [
      Pretrain(session: s), Finetune(session: s), SaveState(session: s), Resume(session: s),
      Evaluate(session: s),
      LinearProbeCommand(session: s), ExportFeatures(session: s), Export(session: s),
      MetricsCommand(),
    ]
    let plot: [any ScriptCommand] = [
      Show(session: s), ShowMask(session: s), ShowCurves(session: s), ShowConfusion(session: s),
      ShowScatter(session: s),
      ShowAttention(session: s), ShowBottleneck(session: s), OpenFigure(session: s),
    ]
    return model + session + video + train + plot
  }
}
