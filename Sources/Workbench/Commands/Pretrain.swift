import Datasets
import Experiments
import Foundation
import Plot
import SVFAP
import Script
import Tensor

/// `train`: pretraining steps on clips in memory or streamed from a manifest.
struct Pretrain: SessionCommand {
  unowned let session: Session
  let declaration = CommandDeclaration(
    "train", topic: "train",
    summary:
      """
      Pretrain a model for some steps on clips in memory, or on a manifest's videos streamed \
      from disk (random starts, reshuffled every epoch); the optimizer, schedule, log and \
      stream position persist, so calls continue one run. Ctrl-C stops at a step boundary.
      """,
    params: [
      .positional("model", .handle("model"), "a pretraining model"),
      .positional("clips", .any, "a clip batch, a list of them, or a manifest .csv to stream"),
      .option("split", .string, "with a manifest: rows to use (\"\" = all)", default: .string("")),
      .option("steps", .integer, "steps in this call", default: .number(10)).within(Limits.steps),
      .option(
        "batch", .integer,
        "clips per step (\(Limits.batchMemoryNote))", default: .number(1)
      ).within(Limits.batch),
      .option(
        "lr", .number, "base learning rate per 256 clips (first call)", default: .number(3e-4)
      ).within(Limits.learningRate),
      .option(
        "total", .integer, "steps of the whole run, for the cosine schedule (first call)",
        default: .number(1000)
      ).within(Limits.steps),
      .option("mask_ratio", .number, "tube mask ratio", default: .number(0.9)).within(
        Limits.fraction),
      .choice(
        "augment", PretrainAugmentation.self,
        """
        each sample of each step drawn afresh: "authors" = VideoMAE's multi-scale crop (the \
        authors' pretraining transform); "strong" = that crop, flip, camera motion, colour, grey, \
        blur and noise (for small data); "faces" = the same without the crop and with slighter \
        motion, blur and noise (face crops keep the face where test clips have it)
        """,
        default: PretrainAugmentation.none),
    ] + RunOptions.params + [
      .option(
        "live", .integer,
        """
        draw a text plot of the loss every N steps (on a terminal; otherwise once at the end); \
        0 = never
        """,
        default: .number(0)
      )
      .within(Limits.steps)
    ] + ClipOptions.params,
    returns: "record {step, loss, stopped}", example: "train m clip steps: 50 batch: 2")

  /// The clips argument: tensors in memory, or a manifest to stream.
  func source(_ a: Arguments) throws -> (
    clips: [Tensor], streamed: DatasetSelection?, options: ClipOptions
  ) {
    let options = try ClipOptions(a, session: session)
    switch a["clips"] {
    case .string:
      return (
        [],
        try options.select(a, session: session, manifest: "clips", split: try a.string("split")),
        options
      )
    case .handle(let h as TensorHandle): return ([h.tensor], nil, options)
    case .list(let items):
      let clips = try items.map { item -> Tensor in
        guard case .handle(let h as TensorHandle) = item else {
          throw a.error("clips must be clip handles, got \(item.typeName)")
        }
        return h.tensor
      }
      return (clips, nil, options)
    default: throw a.error("'clips' must be a clip or a list of clips, got \(a["clips"].typeName)")
    }
  }

  func run(_ a: Arguments, in interp: Interpreter) throws -> Value {
    let m = try a.handle("model", as: ModelHandle.self)
    let (model, existing) = try m.pretraining(for: a)
    let (clips, streamed, clipOptions) = try source(a)
    if streamed != nil { clipOptions.noteStreamedFaces(interp) }
    let options = try RunOptions(a, session: session), batch = try a.int("batch")
    let maskRatio = try a.number("mask_ratio")
    let augmentation = try a.choice("augment", as: PretrainAugmentation.self)
    let augment: Pretrainer.Augment? =
      augmentation == .none ? nil : { try augmentation.apply($0, rng: &$1) }
    try a.located {  // an absurd batch gets an error, not the out-of-memory killer
      try MemoryEstimate.check(
        model.config, model: "this model", task: .pretrain, training: true, batch: batch,
        maskRatio: maskRatio, optimizer: true, replicas: session.split(model.config, batch: batch))
    }
    let plan = try options.plan(
      a, clips: streamed?.rows.count ?? clips.reduce(0) { $0 + $1.shape[0] }, batch: batch
    ) { _ in 1000 }
    var settings = PretrainSettings()
    (settings.baseLR, settings.maskRatio, settings.accumulate) = (
      try a.number("lr"), maskRatio, options.accumulate
    )
    (settings.clipGrad, settings.logPath) = (options.clipGrad, options.logPath)
    let start = RunStart(a: a, interp: interp)
    let continuing = try a.bool("restart") ? nil : existing
    if let continuing {
      try start.refuseNewRunOptions(continuing: continuing, names: RunStart.scheduleOptions) {
        let schedule = continuing.settings.schedule
        switch $0 {
        case "lr": return settings.baseLR != schedule.baseLR
        case "total", "total_epochs": return plan.total != schedule.totalSteps
        default: return plan.warmup != schedule.warmupSteps
        }
      }
    }
    try start.prepareLog(options.logPath, newRun: continuing == nil)
    let t =
      continuing
      ?? Pretrainer.start(model, settings, plan: plan, batch: batch, seed: session.nextSeed())
    t.apply(settings)
    if continuing == nil {
      start.announce(t, kind: "pretraining")
    } else {
      start.noteBatchChange(t, clipsPerUpdate: batch * t.accumulate)
    }
    start.warnPastSchedule(t, steps: plan.steps)
    if augmentation != .none {
      interp.output("train: augmenting every sample: \(augmentation.description)")
    }
    m.state = .pretraining(model, run: t)
    let live = try a.int("live"), terminal = isatty(1) == 1 && session.interactive
    let inPlace = terminal || session.notebookDisplay != nil
    let liveDisplay = LiveDisplay()
    let call = TrainingCall(session: session, interp: interp, options: options, name: "pretrain")
    let stopped = try a.located {
      try call.run(
        t, steps: plan.steps, clipsPerStep: batch * t.accumulate,
        split: session.split(model.config, batch: batch), terminalBar: live == 0
      ) {
        if live > 0 && inPlace && $0.step % live == 0 { drawLive(t, interp, display: liveDisplay) }
      } _: { run, report in
        guard let streamed else {
          return try run.train(
            clips: clips, steps: plan.steps, batch: batch, augment: augment,
            shouldStop: { Interrupt.pending }, progress: report)
        }
        let source = StreamedClips(
          manifest: streamed.unlabeled, root: streamed.root, spec: clipOptions.spec, batch: batch,
          onError: clipOptions.onError, run: run, report: call.rowReport(main: run === t))
        return try run.train(
          steps: plan.steps, shouldStop: { Interrupt.pending }, progress: report
        ) { slot in
          guard let clips = try source.next()?.0 else { return nil }
          guard let augment else { return clips }
          let rows = run.globalSamples(localBatch: clips.shape[0])
          return try Tensor.concat(
            zip(0..<clips.shape[0], rows).map { k, sample in
              var rng = run.sampleGenerator(slot, sample: sample, purpose: SamplePurpose.augment)
              return try augment(try clips.slice(axis: 0, start: k, count: 1), &rng)
            }, axis: 0)  // (b, 3, T, H, W)
        }
      }
    }
    call.flushRowReports()
    if live > 0 && !inPlace && !t.log.isEmpty { drawLive(t, interp, display: liveDisplay) }
    return .record(
      Record([
        ("step", .number(Double(t.step))), ("loss", .number(t.log.last?.loss ?? .nan)),
        ("stopped", .string(stopped)),
      ]))
  }

  /// The run's loss so far: in a notebook the curves figure as a PNG updated in place, else a
  /// text plot.
  func drawLive(_ t: Pretrainer, _ interp: Interpreter, display: LiveDisplay) {
    if let notebook = session.notebookDisplay {
      let path = FileManager.default.temporaryDirectory.appendingPathComponent(
        "svfap-live-\(getpid())-\(UUID().uuidString).png"
      ).path
      defer { unlink(path) }
      let figure = Figures.trainingCurves(
        [(t.logPath.map(fileStem) ?? "this run", t.log)], title: "live: step \(t.step)")
      guard (try? Gnuplot.shared.render(figure, to: path, terminal: .png)) != nil,
        let png = FileManager.default.contents(atPath: path)
      else { return }
      notebook(
        display.id,
        ["image/png": png.base64EncodedString(), "text/plain": "loss curves at step \(t.step)"],
        display.shown)
      display.shown = true
      return
    }
    text(t, interp)
  }

  /// A text plot of the run's loss so far (no form feed).
  func text(_ t: Pretrainer, _ interp: Interpreter) {
    let xs = t.log.map { Double($0.step) }, ys = t.log.map(\.loss)
    let fig = Figure(
      title: "loss",
      panels: [
        .curves(
          series: [(name: "loss", x: xs, y: ys)], xLabel: "step", yLabel: "loss", logY: false,
          title: "")
      ],
      columns: 1, panelWidth: 560, panelHeight: 160)
    if let text = try? Gnuplot.shared.render(fig, to: nil, terminal: .dumb) {
      interp.output(text.replacingOccurrences(of: "\u{0C}", with: ""))
    }
  }
}

/// One call's live curves display in a notebook: its id, and whether it is shown yet.
final class LiveDisplay {
  /// The display's id.
  let id = "svfap-live-\(UUID().uuidString)"
  /// Whether the first image went out (later ones update it).
  var shown = false
}
