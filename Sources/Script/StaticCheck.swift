/// What can be told about a script before it runs (`svfap run` checks first): its syntax, and every
/// call of a command against the command's declaration — an option it does not have, an option
/// given twice, more positional arguments than it takes, a command that does not exist. A long run
/// that would stop at a typo in its last line stops before it starts. Names the script defines
/// (procedures, variables, loop variables, parameters) are its own and not checked; with a `source`
/// statement, unknown names are left to run time (the sourced file may define them).
extension Interpreter {
  /// The problems of `source` (named `file` in the messages), in source order; empty when none is
  /// found. A syntax error is the only problem reported for a text that does not parse.
  public func check(_ source: String, file: String) -> [ScriptError] {
    let program: [Stmt]
    do { program = try Parser.parse(source, file: file) } catch let e as ScriptError {
      return [e]
    } catch { return [ScriptError(.parse, "\(error)")] }
    var defined = Set(globals.keys)
    var sources = false
    Self.walk(program) { stmt in
      switch stmt {
      case .assign(.variable(let n, _), _, _): defined.insert(n)
      case .forIn(let n, _, _, _): defined.insert(n)
      case .procedure(let n, let params, _, _):
        defined.insert(n)
        defined.formUnion(params.map(\.0))
      case .source: sources = true
      default: break
      }
    } call: { _, _, _ in
    }
    var problems: [ScriptError] = []
    Self.walk(program) { _ in
    } call: { name, args, location in
      guard !defined.contains(name) else { return }
      guard let c = commands[name] else {
        if !sources {
          problems.append(
            ScriptError(
              .runtime,
              "unknown command '\(name)'\(suggestion(for: name, among: completionNames))",
              at: location))
        }
        return
      }
      problems += Self.problems(of: c.declaration, args, at: location)
    }
    let lines = source.split(separator: "\n", omittingEmptySubsequences: false)
    return problems.map { $0.withSourceLine(from: lines) }
  }

  /// The argument problems of one call of `declaration` (as `bind` would find them when it runs).
  static func problems(
    of declaration: CommandDeclaration, _ args: [Argument], at location: SourceLocation
  ) -> [ScriptError] {
    var problems: [ScriptError] = []
    let positionalParams = declaration.params.filter(\.positional)
    let positionalCount = args.filter { $0.name == nil }.count
    if !positionalParams.contains(where: \.variadic), positionalCount > positionalParams.count {
      problems.append(
        ScriptError(.runtime, declaration.tooManyPositional(positionalCount), at: location))
    }
    var seen = Set<String>()
    for a in args {
      guard let n = a.name else { continue }
      if !declaration.params.contains(where: { $0.name == n }) {
        problems.append(ScriptError(.runtime, declaration.noOption(n), at: a.location))
      } else if !seen.insert(n).inserted {
        problems.append(ScriptError(.runtime, declaration.givenTwice(n), at: a.location))
      }
    }
    return problems
  }

  /// Visits every statement of `program` (nested ones too) and every call in it, in source order.
  static func walk(
    _ program: [Stmt], statement: (Stmt) -> Void,
    call: (String, [Argument], SourceLocation) -> Void
  ) {
    func expr(_ e: Expr) {
      switch e {
      case .number, .bool, .nilValue, .variable: break
      case .string(let parts):
        for case .expr(let x) in parts { expr(x) }
      case .list(let xs): xs.forEach(expr)
      case .record(let fields): fields.forEach { expr($0.1) }
      case .unary(_, let x, _): expr(x)
      case .binary(_, let a, let b, _), .range(let a, let b, _), .index(let a, let b, _):
        expr(a)
        expr(b)
      case .call(let name, let args, let l):
        call(name, args, l)
        args.forEach { expr($0.value) }
      case .field(let x, _, _): expr(x)
      }
    }
    func stmts(_ list: [Stmt]) {
      for s in list {
        statement(s)
        switch s {
        case .expression(let e, _, _): expr(e)
        case .assign(let target, let value, _):
          expr(target)
          expr(value)
        case .conditional(let branches, let otherwise, _):
          for (condition, body) in branches {
            expr(condition)
            stmts(body)
          }
          if let o = otherwise { stmts(o) }
        case .forIn(_, let sequence, let body, _):
          expr(sequence)
          stmts(body)
        case .whileLoop(let condition, let body, _):
          expr(condition)
          stmts(body)
        case .procedure(_, let params, let body, _):
          params.compactMap(\.1).forEach(expr)
          stmts(body)
        case .returnValue(let e, _): e.map(expr)
        case .source(let e, _): expr(e)
        case .breakLoop, .continueLoop: break
        }
      }
    }
    stmts(program)
  }
}
