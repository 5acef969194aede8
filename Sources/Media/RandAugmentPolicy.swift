import Foundation

/// A RandAugment policy in timm's string grammar, as the authors pass it (`--aa
/// rand-m7-n4-mstd0.5-inc1`): `rand` then `-`-separated fields `m` (magnitude, 0…10), `n` (ops per
/// clip), `mstd` (magnitude noise), `mmax` (magnitude ceiling), `p` (probability of each op) and
/// `inc` (1: the "increasing" op set, whose strength grows with the magnitude).
public struct RandAugmentPolicy: Sendable, Equatable, CustomStringConvertible {
  /// The authors' fine-tuning policy.
  public static let authors = "rand-m7-n4-mstd0.5-inc1"

  /// Ops drawn per clip (with replacement).
  public var layers = 2
  /// Magnitude (timm's levels: 10 = the strongest).
  public var magnitude = 10.0
  /// Standard deviation of the Gaussian noise added to the magnitude each time an op is drawn.
  public var magnitudeStd = 0.0
  /// The magnitude is clipped to 0…magnitudeMax.
  public var magnitudeMax = 10.0
  /// Probability that a drawn op is applied.
  public var probability = 0.5
  /// The increasing op set (`inc1`).
  public var increasing = false
  /// The text it was read from.
  public let text: String

  /// Reads a policy; a field that does not parse is an error naming it.
  public init(_ text: String) throws {
    self.text = text
    let fields = text.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
    guard fields.first == "rand" else {
      throw PolicyError(
        text, field: 1, fields.first ?? "", "a RandAugment policy starts with 'rand'")
    }
    for (i, field) in fields.enumerated().dropFirst() {
      guard let split = field.firstIndex(where: { $0.isNumber || $0 == "." }) else {
        throw PolicyError(
          text, field: i + 1, field, "a field is a key (m, n, mstd, mmax, p, inc) and a number")
      }
      let key = String(field[..<split]), raw = String(field[split...])
      guard let value = Double(raw), value.isFinite else {
        throw PolicyError(text, field: i + 1, field, "'\(raw)' is not a number")
      }
      func whole(_ range: ClosedRange<Int>) throws -> Int {
        guard value == value.rounded(), let n = Int(exactly: value), range.contains(n) else {
          throw PolicyError(
            text, field: i + 1, field,
            "\(key) must be a whole number in \(range.lowerBound)…\(range.upperBound)")
        }
        return n
      }
      func real(_ range: ClosedRange<Double>) throws -> Double {
        guard range.contains(value) else {
          throw PolicyError(
            text, field: i + 1, field, "\(key) must be in \(range.lowerBound)…\(range.upperBound)")
        }
        return value
      }
      switch key {
      case "m": magnitude = try real(0...30)
      case "n": layers = try whole(0...16)
      case "mstd": magnitudeStd = try real(0...100)
      case "mmax": magnitudeMax = try real(0...30)
      case "p": probability = try real(0...1)
      case "inc": increasing = try whole(0...1) == 1
      default:
        throw PolicyError(
          text, field: i + 1, field, "unknown key '\(key)' (m, n, mstd, mmax, p or inc)")
      }
    }
  }

  /// The policy string.
  public var description: String { text }

  /// A policy string that does not parse: which field (1-based) and why.
  public struct PolicyError: Error, CustomStringConvertible, Sendable {
    /// The whole policy, the field's number and text, and what is wrong with it.
    public let policy: String, field: Int, fieldText: String, reason: String

    init(_ policy: String, field: Int, _ fieldText: String, _ reason: String) {
      (self.policy, self.field, self.fieldText, self.reason) = (policy, field, fieldText, reason)
    }

    /// "RandAugment policy 'rand-m7-x': field 3 'x': …".
    public var description: String {
      "RandAugment policy '\(policy)': field \(field) '\(fieldText)': \(reason)"
    }
  }
}
