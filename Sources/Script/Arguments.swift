/// The arguments of one call, bound and checked against the declaration.
public struct Arguments {
  /// Values by parameter name (defaults filled in; nil defaults stay `.nilValue`).
  public let values: [String: Value]
  /// The command's name (for messages).
  public let command: String
  /// Where the call is.
  public let location: SourceLocation?
  /// The names the call gave (not filled in from defaults).
  public var given: Set<String> = []

  /// Bound arguments; `given` names those the call wrote.
  public init(
    values: [String: Value], command: String, location: SourceLocation?, given: Set<String> = []
  ) {
    (self.values, self.command, self.location, self.given) = (values, command, location, given)
  }

  /// A value by parameter name.
  public subscript(_ name: String) -> Value { values[name] ?? .nilValue }

  /// A number argument.
  public func number(_ name: String) throws -> Double {
    if case .number(let n) = self[name] { return n }
    throw ScriptError(
      .runtime, "'\(command)': argument '\(name)' must be a number, got \(self[name].typeName)",
      at: location)
  }
  /// An integer argument (a whole number of at most 2^53 in magnitude; anything else is a located
  /// error).
  public func int(_ name: String) throws -> Int {
    let n = try number(name)
    guard n == n.rounded(), abs(n) <= Param.maxInteger else {
      throw ScriptError(
        .runtime,
        """
        '\(command)': argument '\(name)' must be a whole number of at most 2^53, got \
        \(Value.format(n))
        """,
        at: location)
    }
    return Int(n)
  }
  /// A seed argument: an integer in 0…2^53.
  public func seed(_ name: String) throws -> UInt64 {
    let n = try int(name)
    guard n >= 0 else {
      throw ScriptError(
        .runtime, "'\(command)': seed '\(name)' must be in 0…2^53, got \(n)", at: location)
    }
    return UInt64(n)
  }
  /// A string argument.
  public func string(_ name: String) throws -> String {
    if case .string(let s) = self[name] { return s }
    throw ScriptError(
      .runtime, "'\(command)': argument '\(name)' must be a string, got \(self[name].typeName)",
      at: location)
  }
  /// A bool argument.
  public func bool(_ name: String) throws -> Bool {
    if case .bool(let b) = self[name] { return b }
    throw ScriptError(
      .runtime, "'\(command)': argument '\(name)' must be a bool, got \(self[name].typeName)",
      at: location)
  }
  /// A handle argument of a given Swift type.
  public func handle<H: ScriptHandle>(_ name: String, as: H.Type) throws -> H {
    if case .handle(let h) = self[name], let typed = h as? H { return typed }
    throw ScriptError(
      .runtime, "'\(command)': argument '\(name)' has the wrong type (\(self[name].typeName))",
      at: location)
  }
  /// A list argument (ranges expand).
  public func list(_ name: String) throws -> [Value] {
    switch self[name] {
    case .list(let l): return l
    case .range(let a, let b): return try Value.expand(a, b, at: location)
    default:
      throw ScriptError(
        .runtime, "'\(command)': argument '\(name)' must be a list, got \(self[name].typeName)",
        at: location)
    }
  }
  /// A list of indices (class labels, frame numbers): whole numbers in 0..<limit, each checked.
  public func indices(_ name: String, below limit: Int) throws -> [Int] {
    try list(name).enumerated().map { i, v in
      guard case .number(let n) = v, n == n.rounded(), n >= 0, n < Double(limit) else {
        throw ScriptError(
          .runtime,
          """
          '\(command)': \(name)[\(i)] must be a whole number in 0..<\(limit), got \
          \(v.render(top: false))
          """,
          at: location)
      }
      return Int(n)
    }
  }
  /// A word of an enum's vocabulary (declared with `Param.choice`, so binding has checked it).
  public func choice<E: RawRepresentable & CaseIterable>(_ name: String, as: E.Type) throws -> E
  where E.RawValue == String {
    guard case .string(let s) = self[name], let e = E(rawValue: s) else {
      let words = E.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
      throw ScriptError(
        .runtime,
        "'\(command)': '\(name)' must be one of \(words), got \(self[name].render(top: false))",
        at: location)
    }
    return e
  }
  /// An optional word of an enum's vocabulary (nil when not given).
  public func choiceIfGiven<E: RawRepresentable & CaseIterable>(_ name: String, as type: E.Type)
    throws -> E? where E.RawValue == String
  {
    has(name) ? try choice(name, as: type) : nil
  }
  /// An optional integer (nil when not given).
  public func intIfGiven(_ name: String) throws -> Int? { has(name) ? try int(name) : nil }
  /// An optional number (nil when not given).
  public func numberIfGiven(_ name: String) throws -> Double? { has(name) ? try number(name) : nil }
  /// An optional string (nil when not given).
  public func stringIfGiven(_ name: String) throws -> String? { has(name) ? try string(name) : nil }
  /// Whether the call wrote the argument itself (a default does not count).
  public func wasGiven(_ name: String) -> Bool { given.contains(name) }
  /// Whether the caller gave the argument (or it has a non-nil default).
  public func has(_ name: String) -> Bool {
    if case .nilValue = self[name] { return false }
    return true
  }
}
