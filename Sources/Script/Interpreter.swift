import Foundation
import SafeFiles
import StopRequests

/// A handle that exposes read-only fields to scripts (`m.params`, `clip.frames`).
public protocol ScriptFieldAccess {
  /// The field's value, or nil when there is no such field.
  func field(_ name: String) -> Value?
  /// The field names (for completion and messages).
  var fieldNames: [String] { get }
}

/// Runs statements: variables (global, plus one scope per procedure call), control flow,
/// procedures, commands registered by the host, `ans`, and error locations with a call trace.
public final class Interpreter {
  /// Registered commands by name.
  public private(set) var commands: [String: Command] = [:]
  /// Global variables.
  public var globals: [String: Value] = [:]
  /// Where text output goes (stdout by default; notebooks capture it).
  public var output: (String) -> Void = { print($0) }
  /// This process's rank in a run of several (`mpirun`; 0 alone): commands declared `rootOnly`
  /// are skipped on other ranks unless called with `on: "all"`.
  public var rank = 0
  /// Whether output of this process is shown now: always on rank 0; on other ranks only inside a
  /// command called with `on: "all"`.
  public var speaksHere: Bool { rank == 0 || allRanksCalls > 0 }
  private var allRanksCalls = 0
  /// How a shown value is written (defaults to `output` of its description).
  public var display: ((Value) -> Void)?
  /// Jupyter's rule (IPython's): of a run, only the value of its last statement, when that is a
  /// shown expression, is displayed, once, when the run ends without an error.
  public var displayLastOnly = false
  /// The value a `displayLastOnly` run will display.
  private var pendingShow: Value?
  /// Directory of the file being run, for relative paths in `source`.
  public var currentDirectory: String = FileManager.default.currentDirectoryPath
  /// Source lines by file name, for carets in errors.
  var sources: [String: [Substring]] = [:]
  var frames: [[String: Value]] = []
  /// Stops a run after this many statements and loop iterations (fuzzing, sandboxes); nil = no
  /// limit.
  public var maxSteps: Int?
  var steps = 0
  /// Whether a command that stopped early for Ctrl-C (a training call, at a step boundary, its work
  /// kept) ends the whole run: true for scripts, `-e` and notebooks, where nothing after it may run
  /// as if it had finished; false at the prompt, which goes on.
  public var endOnInterrupt = false
  /// How an interruption is named in messages ("Ctrl-C"; a kernel's: "the interrupt"), and what it
  /// ends when `endOnInterrupt` ("the script", "the notebook", "the cell").
  public var interruptName = "Ctrl-C", interruptEnds = "the script"
  /// The most bytes one string or list the language builds may take (`MemoryBudget`; the workbench
  /// sets it with `set memory_limit:`).
  public var memoryLimit = MemoryBudget.defaultBytes

  /// Counts one step against `maxSteps` and polls Ctrl-C.
  func tick(_ l: SourceLocation?) throws {
    try Interrupt.check(at: l)
    if let m = maxSteps {
      steps += 1
      if steps > m { throw ScriptError(.runtime, "step limit of \(m) reached", at: l) }
    }
  }
  let maxDepth = 200
  /// The stack left to the thread running the outermost `run` (nil outside one).
  var stack: StackGuard?
  /// Nested `run`s now (a `source` runs one inside another).
  var runs = 0

  /// Levels of evaluation now (statements and expressions being evaluated inside one another,
  /// through calls and sourced files alike).
  var evaluationDepth = 0
  /// One budget for every shape of depth: at most this many levels of evaluation.
  public static let maxEvaluationDepth = 10_000

  /// Enters one level of evaluation: past `maxEvaluationDepth` levels, or when the thread's stack is
  /// nearly spent (whichever comes first), a located "nested too deeply" error instead of a stack
  /// overflow. Callers leave with `evaluationDepth -= 1`.
  func enterLevel(_ l: SourceLocation?) throws {
    evaluationDepth += 1
    if evaluationDepth > Self.maxEvaluationDepth {
      evaluationDepth -= 1
      throw ScriptError(
        .runtime,
        """
        nested too deeply (more than \(Self.maxEvaluationDepth) levels of evaluation: expressions, \
        calls and sourced files together)
        """, at: l)
    }
    if let stack, stack.exhausted() {
      evaluationDepth -= 1
      throw ScriptError(
        .runtime,
        "nested too deeply for this thread's stack (expressions, calls and sourced files together)",
        at: l)
    }
  }
  /// Files being sourced right now (a file that sources itself, directly or not, stops at
  /// `maxSourceDepth`).
  var sourceDepth = 0
  /// How deeply `source` may nest.
  let maxSourceDepth = 32

  /// An interpreter with the language's built-in commands.
  public init() {
    for c in Builtins.all { register(c) }
  }

  /// Adds a command (a name registered twice is a programming error).
  public func register(_ c: any ScriptCommand) {
    let entry = Command(c)
    precondition(commands[entry.name] == nil, "command \(entry.name) registered twice")
    commands[entry.name] = entry
  }

  /// Commands grouped by topic, topics and names sorted (help listings and the generated
  /// reference).
  public var commandsByTopic: [(topic: String, commands: [Command])] {
    Dictionary(grouping: commands.values, by: \.topic).sorted { $0.key < $1.key }
      .map { (topic: $0.key, commands: $0.value.sorted { $0.name < $1.name }) }
  }

  /// Names that completion offers: commands, variables, keywords.
  public var completionNames: [String] {
    Array(commands.keys) + Array(globals.keys) + Array(keywords)
  }

  // MARK: running

  /// Parses and runs `source`; shown values go to `display`. Errors carry file:line:column.
  @discardableResult
  public func run(_ source: String, file: String = "<input>") throws -> Value {
    if runs == 0 { stack = StackGuard() }
    runs += 1
    defer {
      runs -= 1
      if runs == 0 { stack = nil }
    }
    sources[file] = source.split(separator: "\n", omittingEmptySubsequences: false)
    let program: [Stmt]
    do { program = try Parser.parse(source, file: file) } catch let e as ScriptError {
      throw decorate(e)
    }
    var last = Value.nilValue
    let top = runs == 1
    do {
      steps = 0
      for s in program {
        if top { pendingShow = nil }
        try tick(location(of: s))
        if case .returnValue(_, let l) = s {
          throw ScriptError(.runtime, "'return' outside a procedure", at: l)
        }
        switch try execute(s) {
        case .breakLoop, .continueLoop:
          throw ScriptError(.runtime, "'break' or 'continue' outside a loop", at: location(of: s))
        default: break
        }
        if case .expression(_, _, _) = s {
          last = globals["ans"] ?? .nilValue
        } else if top {
          pendingShow = nil  // a loop's or block's inner values are not the run's result
        }
      }
    } catch let e as ScriptError {
      frames.removeAll()
      if top { pendingShow = nil }
      throw decorate(e)
    }
    if top, displayLastOnly, let v = pendingShow {
      pendingShow = nil
      if let display { display(v) } else { output(v.description) }
    }
    return last
  }

  /// Whether a source is a complete input, still open (a block, bracket or string: the REPL asks
  /// for another line), or invalid whatever follows (a syntax error before its end).
  public enum Completeness: String, Sendable { case complete, incomplete, invalid }

  /// The parser's verdict on `source` (from where it stopped, not from its message text).
  public func completeness(_ source: String) -> Completeness {
    do {
      _ = try Parser.parse(source, file: "<input>")
      return .complete
    } catch let e as ScriptError {
      return e.atEndOfInput ? .incomplete : .invalid
    } catch { return .invalid }
  }

  /// Whether `source` is complete or invalid, not still open.
  public func isComplete(_ source: String) -> Bool { completeness(source) != .incomplete }

  /// Runs a file.
  @discardableResult
  public func runFile(_ path: String) throws -> Value {
    let text: String
    do { text = try SafeFile.readText(path) } catch {
      throw ScriptError(.io, "cannot read the script \(error)")
    }
    let old = currentDirectory
    currentDirectory = URL(fileURLWithPath: path).deletingLastPathComponent().path
    defer { currentDirectory = old }
    return try run(text, file: path)
  }

  func decorate(_ e: ScriptError) -> ScriptError {
    guard let l = e.location, let lines = sources[l.file] else { return e }
    return e.withSourceLine(from: lines)
  }

  func location(of s: Stmt) -> SourceLocation? {
    switch s {
    case .expression(_, _, let l), .assign(_, _, let l), .conditional(_, _, let l),
      .forIn(_, _, _, let l), .whileLoop(_, _, let l),
      .procedure(_, _, _, let l), .returnValue(_, let l), .breakLoop(let l), .continueLoop(let l),
      .source(_, let l):
      return l
    }
  }

  // MARK: variables

  func lookup(_ name: String) -> Value? {
    if let f = frames.last, let v = f[name] { return v }
    return globals[name]
  }

  func assignVariable(_ name: String, _ v: Value) {
    if frames.isEmpty { globals[name] = v } else { frames[frames.count - 1][name] = v }
  }

  // MARK: statements

  enum Flow { case normal, breakLoop, continueLoop, returned(Value) }

  func executeBlock(_ body: [Stmt]) throws -> Flow {
    for s in body {
      try tick(location(of: s))
      let f = try execute(s)
      if case .normal = f { continue }
      return f
    }
    return .normal
  }

  func execute(_ s: Stmt) throws -> Flow {
    try enterLevel(location(of: s))
    defer { evaluationDepth -= 1 }
    switch s {
    case .expression(let e, let hidden, _):
      let v = try evaluate(e)
      if frames.isEmpty {
        if case .nilValue = v {} else { globals["ans"] = v }
        if !hidden, case .nilValue = v {} else if !hidden { show(v) }
      }
      return .normal
    case .assign(let target, let value, let l):
      try assign(target, try evaluate(value), at: l)
      return .normal
    case .conditional(let branches, let otherwise, _):
      for (cond, body) in branches where try evaluate(cond).isTrue { return try executeBlock(body) }
      if let otherwise { return try executeBlock(otherwise) }
      return .normal
    case .forIn(let name, let seqExpr, let body, let l):
      let sequence = try evaluate(seqExpr)
      if case .range(let a, let b) = sequence {
        // Ranges iterate lazily: `for i in 0..99999999999` allocates nothing.
        var k = a
        while k <= b {
          try tick(l)
          assignVariable(name, .number(Double(k)))
          k += 1
          switch try executeBlock(body) {
          case .breakLoop: return .normal
          case .returned(let v): return .returned(v)
          default: continue
          }
        }
        return .normal
      }
      for item in try iterate(sequence, at: l) {
        try tick(l)
        assignVariable(name, item)
        switch try executeBlock(body) {
        case .breakLoop: return .normal
        case .returned(let v): return .returned(v)
        default: continue
        }
      }
      return .normal
    case .whileLoop(let cond, let body, let l):
      while try evaluate(cond).isTrue {
        try tick(l)
        switch try executeBlock(body) {
        case .breakLoop: return .normal
        case .returned(let v): return .returned(v)
        default: continue
        }
      }
      return .normal
    case .procedure(let name, let params, let body, let l):
      if commands[name] != nil {
        throw ScriptError(.runtime, "'\(name)' is a built-in command; choose another name", at: l)
      }
      assignVariable(
        name, .procedure(Procedure(name: name, params: params, body: body, location: l)))
      return .normal
    case .returnValue(let e, let l):
      if frames.isEmpty { throw ScriptError(.runtime, "'return' outside a procedure", at: l) }
      return .returned(try e.map(evaluate) ?? .nilValue)
    case .breakLoop: return .breakLoop
    case .continueLoop: return .continueLoop
    case .source(let e, let l):
      guard case .string(let path) = try evaluate(e) else {
        throw ScriptError(.runtime, "'source' needs a file name string", at: l)
      }
      guard sourceDepth < maxSourceDepth else {
        throw ScriptError(
          .runtime,
          "source nested more than \(maxSourceDepth) files deep: does '\(path)' source itself?",
          at: l)
      }
      sourceDepth += 1
      defer { sourceDepth -= 1 }
      let expanded = expandingTilde(path)
      let full = expanded.hasPrefix("/") ? expanded : currentDirectory + "/" + expanded
      let text: String
      do { text = try SafeFile.readText(full) } catch {
        throw ScriptError(
          .io, "cannot read '\(path)' (looked in \(currentDirectory)): \(error.reason)", at: l)
      }
      sources[full] = text.split(separator: "\n", omittingEmptySubsequences: false)
      let program: [Stmt]
      do { program = try Parser.parse(text, file: full) } catch let err as ScriptError {
        throw decorate(err)
      }
      let old = currentDirectory
      currentDirectory = URL(fileURLWithPath: full).deletingLastPathComponent().path
      defer { currentDirectory = old }
      for st in program {
        let f = try execute(st)
        if case .normal = f { continue }
        throw ScriptError(
          .runtime, "'return', 'break' or 'continue' at the top of a sourced file",
          at: location(of: st))
      }
      return .normal
    }
  }

  /// Shows a value (REPL echo).
  public func show(_ v: Value) {
    if displayLastOnly && runs > 0 {
      pendingShow = v
      return
    }
    if let display { display(v) } else { output(v.description) }
  }

  func iterate(_ v: Value, at l: SourceLocation) throws -> [Value] {
    switch v {
    case .list(let items): return items
    case .range(let a, let b): return try Value.expand(a, b, at: l)
    case .string(let s): return s.map { .string(String($0)) }
    case .record(let r): return r.keys.map { .string($0) }
    default: throw ScriptError(.runtime, "cannot loop over a \(v.typeName)", at: l)
    }
  }

  func assign(_ target: Expr, _ v: Value, at l: SourceLocation) throws {
    switch target {
    case .variable(let name, let loc):
      if name == "ans" { throw ScriptError(.runtime, "'ans' is set by the interpreter", at: loc) }
      assignVariable(name, v)
    case .field(let base, let name, let loc):
      guard case .record(var r) = try evaluate(base) else {
        throw ScriptError(.runtime, "only record fields can be assigned", at: loc)
      }
      r[name] = v
      try assign(base, .record(r), at: l)
    case .index(let base, let idx, let loc):
      let container = try evaluate(base), i = try evaluate(idx)
      switch (container, i) {
      case (.list(var items), .number(let n)):
        let k = try listIndex(n, items.count, at: loc)
        items[k] = v
        try assign(base, .list(items), at: l)
      case (.record(var r), .string(let key)):
        r[key] = v
        try assign(base, .record(r), at: l)
      default:
        throw ScriptError(
          .runtime, "cannot assign into \(container.typeName)[\(i.typeName)]", at: loc)
      }
    default: throw ScriptError(.runtime, "cannot assign to this expression", at: l)
    }
  }

  func listIndex(_ n: Double, _ count: Int, at l: SourceLocation) throws -> Int {
    guard n == n.rounded(), abs(n) < 1e15 else {
      throw ScriptError(.runtime, "index \(Value.format(n)) is not an integer", at: l)
    }
    let k = Int(n) < 0 ? Int(n) + count : Int(n)
    guard k >= 0 && k < count else {
      throw ScriptError(.runtime, "index \(Int(n)) out of range for length \(count)", at: l)
    }
    return k
  }

  // MARK: expressions

  /// Evaluates an expression.
  public func evaluate(_ e: Expr) throws -> Value {
    try enterLevel(e.location)
    defer { evaluationDepth -= 1 }
    switch e {
    case .number(let n): return .number(n)
    case .bool(let b): return .bool(b)
    case .nilValue: return .nilValue
    case .string(let parts):
      var s = ""
      for p in parts {
        switch p {
        case .text(let t): s += t
        case .expr(let x): s += try evaluate(x).description
        }
      }
      return .string(s)
    case .list(let items): return .list(try items.map(evaluate))
    case .record(let fields): return .record(Record(try fields.map { ($0.0, try evaluate($0.1)) }))
    case .variable(let name, let l):
      if let v = lookup(name) { return v }
      if commands[name] != nil { return try call(name, [], at: l) }
      throw ScriptError(
        .runtime, "unknown name '\(name)'\(suggestion(for: name, among: completionNames))", at: l)
    case .unary(let op, let x, let l):
      let v = try evaluate(x)
      switch (op, v) {
      case ("-", .number(let n)): return .number(-n)
      case ("not", _): return .bool(!v.isTrue)
      default: throw ScriptError(.runtime, "'\(op)' does not apply to a \(v.typeName)", at: l)
      }
    case .binary(let op, let a, let b, let l):
      if op == "and" {
        let x = try evaluate(a)
        return x.isTrue ? try evaluate(b) : x
      }
      if op == "or" {
        let x = try evaluate(a)
        return x.isTrue ? x : try evaluate(b)
      }
      return try binary(op, try evaluate(a), try evaluate(b), at: l)
    case .range(let a, let b, let l):
      guard case .number(let x) = try evaluate(a), case .number(let y) = try evaluate(b),
        x == x.rounded(), y == y.rounded(),
        abs(x) < 1e15, abs(y) < 1e15
      else {
        throw ScriptError(.runtime, "a range needs integer bounds", at: l)
      }
      return .range(Int(x), Int(y))
    case .call(let name, let args, let l): return try call(name, args, at: l)
    case .index(let base, let idx, let l):
      let c = try evaluate(base), i = try evaluate(idx)
      switch (c, i) {
      case (.list(let items), .number(let n)): return items[try listIndex(n, items.count, at: l)]
      case (.string(let s), .number(let n)):
        let chars = Array(s)
        return .string(String(chars[try listIndex(n, chars.count, at: l)]))
      case (.range(let a, let b), .number(let n)):
        return .number(Double(a + (try listIndex(n, max(b - a + 1, 0), at: l))))
      case (.record(let r), .string(let k)):
        guard let v = r[k] else {
          throw ScriptError(
            .runtime, "record has no field '\(k)'\(suggestion(for: k, among: r.keys))", at: l)
        }
        return v
      default:
        throw ScriptError(.runtime, "cannot index a \(c.typeName) with a \(i.typeName)", at: l)
      }
    case .field(let base, let name, let l):
      let c = try evaluate(base)
      switch c {
      case .record(let r):
        guard let v = r[name] else {
          throw ScriptError(
            .runtime, "record has no field '\(name)'\(suggestion(for: name, among: r.keys))", at: l)
        }
        return v
      case .handle(let h):
        guard let fa = h as? ScriptFieldAccess else {
          throw ScriptError(.runtime, "a \(h.typeName) has no fields", at: l)
        }
        guard let v = fa.field(name) else {
          throw ScriptError(
            .runtime,
            """
            a \(h.typeName) has no field \
            '\(name)'\(suggestion(for: name, among: fa.fieldNames)) (fields: \
            \(fa.fieldNames.joined(separator: ", ")))
            """,
            at: l)
        }
        return v
      default: throw ScriptError(.runtime, "a \(c.typeName) has no fields", at: l)
      }
    }
  }

  func binary(_ op: String, _ a: Value, _ b: Value, at l: SourceLocation) throws -> Value {
    switch (op, a, b) {
    case ("==", _, _): return .bool(a == b)
    case ("!=", _, _): return .bool(a != b)
    case ("+", .number(let x), .number(let y)): return .number(x + y)
    case ("+", .string(let x), _):
      let y = b.description
      try charge(x.utf8.count &+ y.utf8.count, "a string", at: l)
      return .string(x + y)
    case ("+", _, .string(let y)):
      let x = a.description
      try charge(x.utf8.count &+ y.utf8.count, "a string", at: l)
      return .string(x + y)
    case ("+", .list(let x), .list(let y)):
      try charge(Self.listBytes(x.count &+ y.count), "a list", at: l)
      return .list(x + y)
    case ("-", .number(let x), .number(let y)): return .number(x - y)
    case ("*", .number(let x), .number(let y)): return .number(x * y)
    case ("*", .string(let s), .number(let n)) where n >= 0 && n == n.rounded() && n < 1e6:
      let (bytes, overflow) = s.utf8.count.multipliedReportingOverflow(by: Int(n))
      try charge(overflow ? -1 : bytes, "a string", at: l)
      return .string(String(repeating: s, count: Int(n)))
    case ("/", .number(let x), .number(let y)):
      if y == 0 { throw ScriptError(.runtime, "division by zero", at: l) }
      return .number(x / y)
    case ("%", .number(let x), .number(let y)):
      if y == 0 { throw ScriptError(.runtime, "division by zero", at: l) }
      let r = x.truncatingRemainder(dividingBy: y)
      return .number(r != 0 && (r < 0) != (y < 0) ? r + y : r)
    case ("^", .number(let x), .number(let y)): return .number(Foundation.pow(x, y))
    case ("<", .number(let x), .number(let y)): return .bool(x < y)
    case ("<=", .number(let x), .number(let y)): return .bool(x <= y)
    case (">", .number(let x), .number(let y)): return .bool(x > y)
    case (">=", .number(let x), .number(let y)): return .bool(x >= y)
    case ("<", .string(let x), .string(let y)): return .bool(x < y)
    case ("<=", .string(let x), .string(let y)): return .bool(x <= y)
    case (">", .string(let x), .string(let y)): return .bool(x > y)
    case (">=", .string(let x), .string(let y)): return .bool(x >= y)
    default:
      throw ScriptError(
        .runtime, "'\(op)' does not apply to \(a.typeName) and \(b.typeName)", at: l)
    }
  }

  // MARK: calls

  func call(_ name: String, _ args: [Argument], at l: SourceLocation) throws -> Value {
    var positional: [Value] = [], named: [(String, Value, SourceLocation)] = []
    let bare = lookup(name) == nil && (commands[name]?.bareNames ?? false)
    for a in args {
      let v: Value
      if bare, case .variable(let n, _) = a.value, lookup(n) == nil {
        v = .string(n)
      } else {
        v = try evaluate(a.value)
      }
      if let n = a.name { named.append((n, v, a.location)) } else { positional.append(v) }
    }
    return try call(name, positional: positional, named: named, at: l)
  }

  /// Calls a command or procedure with evaluated arguments.
  public func call(
    _ name: String, positional: [Value], named: [(String, Value, SourceLocation)],
    at l: SourceLocation?
  ) throws -> Value {
    if let v = lookup(name) {
      guard case .procedure(let p) = v else {
        throw ScriptError(
          .runtime, "'\(name)' is a \(v.typeName), not a command or procedure", at: l)
      }
      return try invoke(p, positional, named, at: l)
    }
    guard let c = commands[name] else {
      throw ScriptError(
        .runtime, "unknown command '\(name)'\(suggestion(for: name, among: completionNames))", at: l
      )
    }
    let bound = try c.declaration.bind(positional, named, at: l)
    if c.declaration.rootOnly && rank != 0 {
      guard try bound.choice("on", as: Ranks.self) == .all else { return .nilValue }
      allRanksCalls += 1
    }
    defer { if c.declaration.rootOnly && rank != 0 { allRanksCalls -= 1 } }
    do {
      return try c.implementation.run(bound, in: self)
    } catch var e as ScriptError {
      if e.location == nil { e.location = l }
      throw e
    } catch let stop as StopRequest.Stopped {
      // A pixel loop below stopped for Ctrl-C: the same interruption as at a statement boundary.
      StopRequest.clear()
      throw ScriptError(.interrupted, "\(name): \(stop)", at: l)
    } catch {
      throw ScriptError(.runtime, "\(name): \(error)", at: l)
    }
  }

  func invoke(
    _ p: Procedure, _ positional: [Value], _ named: [(String, Value, SourceLocation)],
    at l: SourceLocation?
  ) throws -> Value {
    guard frames.count < maxDepth else {
      throw ScriptError(
        .runtime,
        "calls nested too deeply (more than \(maxDepth)): runaway recursion in '\(p.name)'?", at: l)
    }
    guard positional.count <= p.params.count else {
      throw ScriptError(
        .runtime, "'\(p.name)' takes \(p.params.count) argument(s), got \(positional.count)", at: l)
    }
    var scope: [String: Value] = [:]
    for (i, v) in positional.enumerated() { scope[p.params[i].0] = v }
    for (n, v, nl) in named {
      guard p.params.contains(where: { $0.0 == n }) else {
        throw ScriptError(
          .runtime,
          "'\(p.name)' has no parameter '\(n)'\(suggestion(for: n, among: p.params.map(\.0)))",
          at: nl)
      }
      scope[n] = v
    }
    frames.append(scope)
    defer { frames.removeLast() }
    do {
      for (name, def) in p.params where frames[frames.count - 1][name] == nil {
        guard let def else {
          throw ScriptError(.runtime, "'\(p.name)' needs argument '\(name)'", at: l)
        }
        frames[frames.count - 1][name] = try evaluate(def)
      }
      switch try executeBlock(p.body) {
      case .returned(let v): return v
      case .breakLoop, .continueLoop:
        throw ScriptError(
          .runtime, "'break' or 'continue' outside a loop in '\(p.name)'", at: p.location)
      case .normal: return .nilValue
      }
    } catch var e as ScriptError {
      // The trace grows as the error leaves each procedure: innermost first.
      if e.trace.count < 20 {
        e.trace.append(
          "in proc \(p.name) (defined at \(p.location)), called at \(l.map(\.description) ?? "?")")
      }
      throw e
    }
  }
}
