import Experiments
import SVFAP
import Script
import Tensor

/// The colour scale of per-head maps.
enum HeadScale: String, CaseIterable {
  /// Each head from its own minimum to its maximum.
  case perHead = "per_head"
  /// One scale for every head.
  case shared
}

/// `show_attention`: a stage-1 layer's attention (or rollout) on the frames.
struct ShowAttention: SessionCommand {
  unowned let session: Session
  let declaration = CommandDeclaration(
    "show_attention", topic: "plot",
    summary:
      """
      Attention of a fine-tuning model's stage-1 layer drawn on the frames, with a colour bar: one \
      query token's attention (mean over heads unless a head is named, or every head with \
      per_head: true), or attention rollout over the stage-1 layers (all, or layers: a..b).
      """,
    params: [
      .positional("model", .handle("model"), "a fine-tuning model"),
      .positional("clip", .handle("clip"), "one clip"),
      .option(
        "layer", .integer,
        "stage-1 block, 0-based (default 0; with rollout: through the last, i.e. all of them)",
        default: .nilValue
      ).within(Limits.index),
      .option("head", .integer, "a head (default: mean over heads)", default: .nilValue).within(
        Limits.index),
      .option(
        "query", .any,
        """
        query token as [slice, row, col] (0-based; marked on its slice) or a flat index \
        slice·S + row·grid + col (default: mean over all queries)
        """,
        default: .nilValue),
      .option("opacity", .number, "opacity of the map over the frames", default: .number(0.55))
        .within(0...1),
      .option(
        "rollout", .bool, "attention rollout across the stage-1 layers", default: .bool(false)),
      .option(
        "layers", .list,
        "with rollout: the stage-1 layers to roll out through, e.g. 1..2 (default: 0 through layer)",
        default: .nilValue),
      .option(
        "slices", .list, "time slices to draw, 0-based (default: all)", default: .nilValue),
      .option(
        "per_head", .bool,
        "small multiples: one row of slices per head (instead of the mean)",
        default: .bool(false)),
      .choice(
        "scale", HeadScale.self,
        """
        with per_head: each head on its own colour scale (per_head: its range in the row's name) \
        or all on one (shared: a head of small weights looks blank)
        """,
        default: .perHead),
    ] + FigureOutput.params,
    returns: "nil (prints the figure's path)",
    example: "show_attention m clip layer: 1 query: [3, 5, 5]",
    rootOnly: true)

  func run(_ a: Arguments, in interp: Interpreter) throws -> Value {
    let m = try a.handle("model", as: ModelHandle.self),
      clip = try a.handle("clip", as: TensorHandle.self)
    let (model, _) = try m.finetuning(for: a)
    let c = model.config, depth = c.stageDepths.first ?? 0
    let rollout = try a.bool("rollout")
    let (layer, head) = (
      try a.intIfGiven("layer") ?? (rollout ? max(depth - 1, 0) : 0), try a.intIfGiven("head")
    )
    let query = try queryToken(a, config: c)
    guard layer < depth else { throw a.error("layer must be 0..<\(depth)") }
    let maps = try a.located { try AttentionMaps(model, clip: clip.tensor) }
    if let head, head >= maps.heads { throw a.error("head must be 0..<\(maps.heads)") }
    if let query, query >= maps.tokens { throw a.error("query must be 0..<\(maps.tokens)") }
    guard layer < maps.layers.count else { return .nilValue }
    var span = 0...layer
    if a.has("layers") {
      guard rollout else {
        throw a.error("layers: goes with rollout: true (layer: names one layer)")
      }
      let given = try a.indices("layers", below: depth)
      guard let first = given.first, let last = given.last, first <= last,
        given == Array(first...last)
      else {
        throw a.error(
          "layers must be consecutive stage-1 layers in 0..<\(depth), e.g. 0..\(max(depth - 1, 0))")
      }
      span = first...last
    }
    let perHead = try a.bool("per_head")
    if perHead && head != nil { throw a.error("per_head: true draws every head; leave out head:") }
    func map(_ h: Int?) -> [Double] {
      maps.values(
        of: rollout ? maps.rollout(layers: span, head: h) : maps.matrix(layer: layer, head: h),
        query: query)
    }
    var title =
      m.figureName + ": "
      + (rollout
        ? "attention rollout over stage-1 layers \(span.lowerBound)...\(span.upperBound)"
        : "attention, stage 1 layer \(layer)")
    let g = c.gridSide
    title +=
      query.map { ", query [\($0 / (g * g)), \($0 / g % g), \($0 % g)] (token \($0))" }
      ?? ", mean over queries"
    title += perHead ? ", per head" : head.map { ", head \($0)" } ?? ", mean over heads"
    let heads: [Int?] = perHead ? (0..<maps.heads).map { $0 } : [head]
    let perSlice = c.tokensPerSlice
    return try FigureOutput.save(
      Figures.tokenHeat(
        clip.tensor, values: heads.flatMap { map($0) }, slices: c.timeSlices, config: c,
        title: title, opacity: try a.number("opacity"),
        marked: query.map { (slice: $0 / perSlice, token: $0 % perSlice) },
        scaleLabel: rollout ? "rollout weight" : "attention weight",
        rowNames: perHead ? heads.map { "head \($0 ?? 0)" } : nil,
        slicesToShow: a.has("slices") ? try a.indices("slices", below: c.timeSlices) : nil,
        frameNumbers: (clip as? ClipHandle)?.clip.frameIndices,
        perRowScale: perHead && (try a.choice("scale", as: HeadScale.self)) == .perHead,
        unscaledMark: rollout && query != nil),
      a, interp, session: session)
  }

  /// The query as a flat token index, from [slice, row, col] or a flat index, each checked against
  /// the token grid (an error naming the valid range).
  func queryToken(_ a: Arguments, config c: SVFAPConfig) throws -> Int? {
    let (t, g) = (c.timeSlices, c.gridSide)
    switch a["query"] {
    case .nilValue: return nil
    case .number(let n):
      guard n.rounded() == n, n >= 0, n < Double(t * g * g) else {
        throw a.error("query must be a token index 0..<\(t * g * g) or [slice, row, col]")
      }
      return Int(n)
    case .list(let items):
      let xs = items.compactMap { item -> Int? in
        guard case .number(let n) = item, n.rounded() == n, abs(n) < 1e9 else { return nil }
        return Int(n)
      }
      guard xs.count == 3, items.count == 3 else {
        throw a.error("query must be [slice, row, col] (three whole numbers)")
      }
      guard (0..<t).contains(xs[0]), (0..<g).contains(xs[1]), (0..<g).contains(xs[2]) else {
        throw a.error(
          "query [\(xs[0]), \(xs[1]), \(xs[2])] is outside the token grid: slice 0..<\(t), row and col 0..<\(g)"
        )
      }
      return (xs[0] * g + xs[1]) * g + xs[2]
    default:
      throw a.error("query must be [slice, row, col] or a token index, got \(a["query"].typeName)")
    }
  }
}

/// `show_bottleneck`: a bottleneck token's weights over the spatial tokens.
struct ShowBottleneck: SessionCommand {
  unowned let session: Session
  let declaration = CommandDeclaration(
    "show_bottleneck", topic: "plot",
    summary:
      """
      TPSBT's spatial bottleneck: for a stage and bottleneck token, its softmax weights over \
      the spatial tokens of each time slice, on the frames.
      """,
    params: [
      .positional("model", .handle("model"), "a fine-tuning model"),
      .positional("clip", .handle("clip"), "one clip"),
      .option(
        "stage", .integer,
        "the paper's stage, 1-based: 2…stages (stage 1 has no bottleneck)", default: .number(2)
      ).within(0...16),
      .option("token", .integer, "bottleneck token 0..<G", default: .number(0)).within(
        Limits.index),
      .option("opacity", .number, "opacity of the map over the frames", default: .number(0.55))
        .within(0...1),
    ] + FigureOutput.params,
    returns: "nil (prints the figure's path)", example: "show_bottleneck m clip stage: 2 token: 3",
    rootOnly: true)

  func run(_ a: Arguments, in interp: Interpreter) throws -> Value {
    let m = try a.handle("model", as: ModelHandle.self),
      clip = try a.handle("clip", as: TensorHandle.self)
    let (model, _) = try m.finetuning(for: a)
    let stage = try a.int("stage"), token = try a.int("token")
    let stages = model.config.stageDepths.count
    guard (2...max(stages, 2)).contains(stage), stages >= 2 else {
      throw a.error(
        stages >= 2
          ? "stage must be 2…\(stages) (the paper's 1-based stages; stage 1 has no bottleneck)"
          : "this model has one stage and no spatial bottleneck")
    }
    guard (0..<model.config.bottleneckTokens).contains(token) else {
      throw a.error("token must be 0..<\(model.config.bottleneckTokens)")
    }
    let sa = model.spatialDownsamples[stage - 2]
    sa.probe.keep = true
    defer {
      sa.probe.keep = false
      sa.probe.last = nil
    }
    model.train(false)
    _ = try a.located {
      try withNoGrad { try model(clip.tensor.slice(axis: 0, start: 0, count: 1)) }
    }
    guard let w = sa.probe.last else { return .nilValue }  // (1, t, G, S)
    let (t, g, s) = (w.shape[1], w.shape[2], w.shape[3]), v = w.toDoubles()
    let values = (0..<t).flatMap { ti in (0..<s).map { v[(ti * g + token) * s + $0] } }
    let title =
      m.figureName + ": "
        + """
        bottleneck token \(token) of stage \(stage): weights over the spatial tokens per time \
        slice
        """
    return try FigureOutput.save(
      Figures.tokenHeat(
        clip.tensor, values: values, slices: t, config: model.config, title: title,
        opacity: try a.number("opacity"), scaleLabel: "bottleneck attention weight",
        frameNumbers: (clip as? ClipHandle)?.clip.frameIndices),
      a, interp, session: session)
  }
}
