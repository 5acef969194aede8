import Foundation
import Testing

@testable import SVFAP
@testable import Tensor

/// Nothing in a state file is trusted: every run field is checked against its range, a flipped data
/// bit is caught by the checksum, NaN/Inf weights are refused by name, and safetensors headers with
/// duplicate names, non-UTF-8 text or bytes after the data are refused.
@Suite struct StateFileTests {
  /// A saved one-step pretraining state of a small model, and its folder.
  static func savedState() throws -> String {
    var c = try SVFAPConfig.preset("svfap-tiny")
    (c.imgSize, c.patchSize, c.dim, c.heads, c.decoderDim, c.decoderHeads, c.bottleneckHidden) = (
      32, 8, 32, 2, 32, 2, 16
    )
    var rng = SplitMix64(seed: 4)
    let t = Pretrainer(model: try PretrainModel(c, seed: 1), totalSteps: 6, batch: 2, seed: 9)
    try t.train(clips: [Tensor.randn([2, 3, 16, 32, 32], rng: &rng)], steps: 1, batch: 2)
    let path = try tempDir().appendingPathComponent("state.safetensors").path
    try t.save(to: path)
    return path
  }

  /// The state file with one field of its JSON state replaced (the checksum recomputed, so only
  /// the field is wrong).
  static func edited(_ path: String, _ edit: (inout [String: Any]) -> Void) throws -> String {
    let f = try SafeTensorsFile(path: path)
    var tensors: [String: Tensor] = [:]
    for name in f.names { tensors[name] = try f.tensor(name) }
    var meta = f.metadata
    let json = meta["svfap.training"] ?? "{}"
    var state = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] ?? [:]
    edit(&state)
    meta["svfap.training"] = String(
      decoding: try JSONSerialization.data(withJSONObject: state), as: UTF8.self)
    let out = path + ".edited-\(UUID().uuidString).safetensors"
    try SafeTensorsFile.write(tensors, metadata: meta, checksum: true, to: out)
    return out
  }

  static func schedule(_ key: String, _ value: Any) -> (inout [String: Any]) -> Void {
    { state in
      var s = state["schedule"] as? [String: Any] ?? [:]
      s[key] = value
      state["schedule"] = s
    }
  }

  static func optimizer(_ key: String, _ value: Any) -> (inout [String: Any]) -> Void {
    { state in
      var s = state["optimizer"] as? [String: Any] ?? [:]
      s[key] = value
      state["optimizer"] = s
    }
  }

  @Test func everyRunFieldIsCheckedOnResume() throws {
    let path = try Self.savedState()
    #expect(try Pretrainer.resume(from: path).step == 1)
    let cases: [(String, (inout [String: Any]) -> Void)] = [
      ("step -5", { $0["step"] = -5 }),
      ("mask ratio 1", { $0["maskRatio"] = 1.0 }),
      ("mask ratio -0.5", { $0["maskRatio"] = -0.5 }),
      ("accumulate 0", { $0["accumulate"] = 0 }),
      ("accumulate 1000000000", { $0["accumulate"] = 1_000_000_000 }),
      ("data position -1", { $0["dataPosition"] = -1 }),
      ("schedule batch 0", Self.schedule("batch", 0)),
      ("schedule batch 1000000000", Self.schedule("batch", 1_000_000_000)),
      ("schedule total 0", Self.schedule("totalSteps", 0)),
      ("beta2 1", Self.optimizer("beta2", 1.0)),
      ("eps 0", Self.optimizer("eps", 0.0)),
    ]
    for (what, edit) in cases {
      let bad = try Self.edited(path, edit)
      do {
        _ = try Pretrainer.resume(from: bad)
        Issue.record("\(what): resumed")
      } catch {
        let words = what.split(separator: " ").dropLast().joined(separator: " ")
        #expect(
          "\(error)".contains("not usable") && "\(error)".lowercased().contains(words.lowercased()),
          "\(what): \(error)")
      }
    }
  }

  @Test func aSaveCleansEveryStaleTemporaryInItsFolder() throws {
    // A save killed before its rename leaves `.NAME.tmp-PID`; any later save in the folder removes
    // those of processes that are gone, whatever name they were for (and keeps a live one's).
    let dir = try tempDir()
    let stale = dir.appendingPathComponent(".other.safetensors.tmp-999999999").path
    let live = dir.appendingPathComponent(".busy.safetensors.tmp-\(getpid() == 1 ? 2 : 1)").path
    try Data([1, 2, 3]).write(to: URL(fileURLWithPath: stale))
    try Data([1, 2, 3]).write(to: URL(fileURLWithPath: live))
    try SafeTensorsFile.write(
      ["w": try Tensor([1, 2], shape: [2])], to: dir.appendingPathComponent("new.safetensors").path)
    #expect(!FileManager.default.fileExists(atPath: stale))
    #expect(FileManager.default.fileExists(atPath: live), "pid 1's temporary is not stale")
  }

  @Test func aFlippedDataBitIsCaught() throws {
    let path = try Self.savedState()
    var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
    bytes[bytes.count - 3] ^= 0x10
    try bytes.write(to: URL(fileURLWithPath: path))
    #expect(throws: SVFAPError.self) { _ = try Pretrainer.resume(from: path) }
    do { _ = try Pretrainer.resume(from: path) } catch {
      #expect("\(error)".contains("checksum"), "\(error)")
    }
  }

  @Test func nonFiniteWeightsAreRefusedByName() throws {
    let model = try PretrainModel(try SVFAPConfig.preset("svfap-nano"), seed: 1)
    var state = model.stateDict()
    let name = "encoder.patch_embed.proj.weight"
    let before = try #require(state[name]).toDoubles()
    var values = before
    values[0] = .nan
    values[1] = .infinity
    state[name] = try Tensor(values, shape: try #require(state[name]).shape)
    do {
      try model.load(state)
      Issue.record("loaded NaN weights")
    } catch {
      #expect("\(error)".contains(name) && "\(error)".contains("2 of"), "\(error)")
    }
    #expect(
      try #require(model.stateDict()[name]).toDoubles() == before, "the model kept its weights")
  }

  /// A safetensors file from a header text and data bytes.
  static func file(_ header: [UInt8], _ data: [UInt8]) -> Data {
    var n = UInt64(header.count).littleEndian
    var d = Data()
    withUnsafeBytes(of: &n) { d.append(contentsOf: $0) }
    return d + Data(header) + Data(data)
  }

  @Test func suspiciousHeadersAreRefused() throws {
    let entry = #"{"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}"#
    let one = [UInt8](#"{"w": \#(entry)}"#.utf8)
    #expect(throws: Never.self) { _ = try SafeTensorsFile(data: Self.file(one, [0, 0, 128, 63])) }
    let twice = [UInt8](#"{"w": \#(entry), "w": \#(entry)}"#.utf8)
    let escaped = [UInt8](#"{"w": \#(entry), "\u0077": \#(entry)}"#.utf8)
    let utf16 = [UInt8](#"{"w": \#(entry)}"#.data(using: .utf16LittleEndian) ?? Data())
    let bom = [0xEF, 0xBB, 0xBF] + one
    for (what, header, data, words) in [
      ("a name twice", twice, [UInt8](repeating: 0, count: 4), "more than once"),
      ("a name twice, escaped", escaped, [0, 0, 0, 0], "more than once"),
      ("UTF-16", utf16, [0, 0, 0, 0], "UTF-8"),
      ("a byte-order mark", bom, [0, 0, 0, 0], "UTF-8"),
      ("bytes after the data", one, [0, 0, 0, 0, 1, 2], "after the last tensor"),
    ] {
      do {
        _ = try SafeTensorsFile(data: Self.file(header, data))
        Issue.record("\(what): accepted")
      } catch {
        #expect("\(error)".contains(words), "\(what): \(error)")
      }
    }
  }
}
