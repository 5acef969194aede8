import Datasets
import Experiments
import Foundation
import SVFAP
import Script
import Tensor

/// `finetune`: fine-tuning steps on a manifest's rows, in memory or streamed.
struct Finetune: SessionCommand {
  unowned let session: Session
  let declaration = CommandDeclaration(
    "finetune", topic: "train",
    summary:
      """
      Fine-tune a fine-tuning model on a manifest's rows (classification with label smoothing, \
      mixup/cutmix; or regression with MSE/CCC); clips are decoded once and kept in memory, or \
      streamed from disk with stream: true. A second call continues the same run (optimizer, \
      schedule, log) unless restart: true. Ctrl-C stops at a step boundary.
      """,
    params: [
      .positional("model", .handle("model"), "a fine-tuning model"),
      .positional("manifest", .string, "a manifest .csv"),
      .option("split", .string, "rows to train on (\"\" = all)", default: .string("train")),
      .option("steps", .integer, "steps in this call", default: .number(100)).within(Limits.steps),
      .option(
        "batch", .integer,
        "videos per step (each gives `repeats` augmented clips; lr scales with it; "
          + "\(Limits.batchMemoryNote))",
        default: .number(4)
      ).within(Limits.batch),
      .option(
        "total", .integer,
        "steps of the whole run, for the cosine schedule (default: this call's steps)",
        default: .nilValue
      )
      .within(Limits.steps),
      .option("lr", .number, "base learning rate per 256 clips (new run)", default: .number(1e-3))
        .within(Limits.learningRate),
      .choice("loss", RegressionLoss.self, "the loss of regression targets", default: .mse),
      .option("fold", .integer, "k-fold: train on every fold but this one", default: .nilValue)
        .within(Limits.index),
      .option("mixup", .number, "mixup alpha (0 = off; the authors use 0.8)", default: .number(0.8))
        .within(Limits.alpha),
      .option("cutmix", .number, "cutmix alpha (0 = off; the authors use 1.0)", default: .number(1))
        .within(Limits.alpha),
      .option(
        "smoothing", .number, "label smoothing (classification, new run)", default: .number(0.1)
      ).within(Limits.fraction),
      .option(
        "layer_decay", .number, "layer-wise lr decay (1 = off; new run)", default: .number(0.75)
      ).within(Limits.layerDecay),
      .option(
        "freeze_encoder", .bool, "train only fc_norm and the head (new run)", default: .bool(false)),
      .option(
        "views", .integer,
        """
        clips per video kept in memory, spread over it; each step draws one (an epoch counts \
        videos)
        """,
        default: .number(1)
      )
      .within(Limits.clipsPerVideo),
      .option(
        "stream", .bool,
        """
        decode clips on worker threads while training (a random start per sample, reshuffled \
        every epoch) instead of keeping them in memory: for datasets larger than memory (keeping \
        clips that need more than three quarters of the memory available is refused)
        """,
        default: .bool(false)),
    ] + AugmentOptions.params + RunOptions.params + ClipOptions.params,
    returns: "record {step, loss, clips (videos used), stopped}",
    example: "finetune f \"synth/expressions.csv\" steps: 200 batch: 4")

  /// The run's settings from the call's options.
  func settings(_ a: Arguments, classification: Bool, options: RunOptions) throws
    -> FinetuneSettings
  {
    var s = FinetuneSettings(
      task: classification
        ? .classification(smoothing: try a.number("smoothing"))
        : .regression(loss: try a.choice("loss", as: RegressionLoss.self)))
    (s.baseLR, s.layerDecay, s.freezeEncoder) = (
      try a.number("lr"), try a.number("layer_decay"), try a.bool("freeze_encoder")
    )
    (s.mixup, s.cutmix, s.accumulate) = (
      try a.number("mixup"), try a.number("cutmix"), options.accumulate
    )
    (s.clipGrad, s.logPath) = (options.clipGrad, options.logPath)
    return s
  }

  /// Whether a new-run option given to a continuing call differs from the run's value.
  func differs(
    _ name: String, run: Finetuner, plan: StepPlan, settings s: FinetuneSettings,
    model: FinetuneModel
  ) -> Bool {
    let schedule = run.settings.schedule
    switch name {
    case "lr": return s.baseLR != schedule.baseLR
    case "total", "total_epochs": return plan.total != schedule.totalSteps
    case "warmup", "warmup_epochs": return plan.warmup != schedule.warmupSteps
    case "smoothing", "loss":
      switch (run.task, s.task) {
      case (.classification(let x), .classification(let y)): return x != y
      case (.regression(let x), .regression(let y)): return x != y
      default: return name == "loss" ? false : true
      }
    default:  // layer_decay, freeze_encoder: the lr scales they give
      let scales = Finetuner.lrScales(
        names: run.optimizer.parameters.map(\.name), config: model.config,
        layerDecay: s.layerDecay, frozenEncoder: s.freezeEncoder)
      return scales != run.optimizer.lrScale
    }
  }

  func run(_ a: Arguments, in interp: Interpreter) throws -> Value {
    let h = try a.handle("model", as: ModelHandle.self)
    let (model, existing) = try h.finetuning(for: a)
    let augment = try AugmentOptions(a)
    let clipOptions = try ClipOptions(a, session: session),
      options = try RunOptions(a, session: session)
    let selection = try clipOptions.select(
      a, session: session, split: try a.string("split"), foldIsTest: false, missingSplit: .allRows)
    if selection.tookAllRows {
      interp.output(
        """
        finetune: \((try a.string("manifest") as NSString).lastPathComponent) has no split column: \
        training on all \(selection.rows.count) rows (evaluate on these rows scores the training \
        data)
        """)
    }
    let manifestPath = try a.string("manifest")
    try a.located {
      try TrainingData.checkLabels(
        selection, outputs: model.config.numClasses, manifestPath: manifestPath)
    }
    let stream = try a.bool("stream"), views = try a.int("views"), batch = try a.int("batch")
    if stream { clipOptions.noteStreamedFaces(interp) }
    try a.located {  // before any clip is read: an absurd batch gets an error, not the OOM killer
      try MemoryEstimate.check(
        model.config, model: "this model", task: .finetune, training: true,
        batch: batch * augment.repeats, optimizer: true,
        replicas: session.split(model.config, batch: batch))
    }
    let data =
      stream
      ? nil
      : try a.located {
        try TrainingData.inMemory(
          selection, spec: clipOptions.spec, views: views, reader: clipOptions.reader(a, interp))
      }
    let videos = data?.views.count ?? selection.rows.count
    let plan = try options.plan(a, clips: videos, batch: batch) { $0 }
    let s = try settings(a, classification: selection.isClassification, options: options)
    let start = RunStart(a: a, interp: interp)
    let continuing = try a.bool("restart") ? nil : existing
    if let continuing {
      try start.refuseNewRunOptions(
        continuing: continuing,
        names: RunStart.scheduleOptions + ["smoothing", "loss", "layer_decay", "freeze_encoder"]
      ) { name in
        differs(name, run: continuing, plan: plan, settings: s, model: model)
      }
    }
    try start.prepareLog(options.logPath, newRun: continuing == nil)
    let ft =
      continuing ?? Finetuner.start(model, s, plan: plan, batch: batch, seed: session.nextSeed())
    ft.apply(s)
    if continuing == nil {
      start.announce(ft, kind: "fine-tuning")
    } else {
      start.noteBatchChange(ft, clipsPerUpdate: batch * ft.accumulate)
    }
    start.warnPastSchedule(ft, steps: plan.steps)
    h.state = .finetuning(model, run: ft)
    let call = TrainingCall(session: session, interp: interp, options: options, name: "finetune")
    let stopped = try a.located {
      try call.run(
        ft, steps: plan.steps, clipsPerStep: batch * augment.repeats * ft.accumulate,
        split: session.split(model.config, batch: batch)
      ) { run, report in
        let next: () throws -> (Tensor, [[Double]])?
        if let data {
          let source = try ShuffledClips(
            views: data.views, targets: data.targets, videosPerBatch: batch,
            repeats: augment.repeats,
            augmentation: augment.augmentation, run: run)
          next = source.next
        } else {
          let source = StreamedClips(
            manifest: selection.chosen, root: selection.root, spec: clipOptions.spec, batch: batch,
            onError: clipOptions.onError, run: run, report: call.rowReport(main: run === ft))
          (source.repeats, source.augmentation) = (augment.repeats, augment.augmentation)
          next = source.next
        }
        return try run.train(
          steps: plan.steps, shouldStop: { Interrupt.pending }, progress: report
        ) { _ in try next() }
      }
    }
    call.flushRowReports()
    return .record(
      Record([
        ("step", .number(Double(ft.step))), ("loss", .number(ft.losses.last ?? .nan)),
        ("clips", .number(Double(videos))),
        ("stopped", .string(stopped)),
      ]))
  }
}
