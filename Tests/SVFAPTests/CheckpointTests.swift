import Foundation
import Pickle
import Testing

@testable import SVFAP
@testable import Tensor

/// safetensors both ways with Python, the authors' .pth files, and hostile files.
@Suite struct CheckpointTests {
  @Test func safetensorsRoundTripWithPython() throws {
    var cfg = try SVFAPConfig.preset("svfap-tiny")
    cfg.numClasses = 3
    let model = try FinetuneModel(cfg, seed: 7)
    let dir = try tempDir()
    let path = dir.appendingPathComponent("m.safetensors").path
    try Checkpoint.save(model, config: cfg, to: path)
    // Python reads it and reports each tensor's shape and sum; then writes a scaled copy back.
    let back = dir.appendingPathComponent("back.safetensors").path
    let out = try python(
      """
      import sys, json, numpy as np
      from safetensors.numpy import load_file, save_file
      t = load_file(sys.argv[1])
      print(json.dumps({k: [list(v.shape), float(v.astype(np.float64).sum())] for k, v in t.items()}))
      save_file({k: (v * 2).astype(np.float32) for k, v in t.items()}, sys.argv[2])
      """, [path, back])
    let seen = try JSONSerialization.jsonObject(with: Data(out.utf8)) as! [String: [Any]]
    let mine = model.stateDict()
    #expect(Set(seen.keys) == Set(mine.keys))
    for (k, t) in mine {
      #expect((seen[k]![0] as! [Int]) == t.shape, "\(k)")
      let sum = t.toDoubles().reduce(0, +)
      #expect(abs((seen[k]![1] as! Double) - sum) <= 1e-4 * max(1, abs(sum)), "\(k)")
    }
    let doubled = try Checkpoint.readTensors(back)
    for (k, t) in mine { #expect(doubled[k]!.toFloats() == t.toFloats().map { $0 * 2 }, "\(k)") }
    let f = try SafeTensorsFile(path: path)
    #expect(f.metadata["svfap.config"]?.contains("\"dim\":96") == true)
  }

  @Test func authorsPthLoadsThroughRestrictedUnpickler() throws {
    let pth = try TorchCheckpoint(path: fixturesDir.appendingPathComponent("finetune_tpsbt.pth").path)
    let ref = try SafeTensorsFile(path: fixturesDir.appendingPathComponent("finetune_tpsbt_fp32.safetensors").path)
    #expect(pth.tensors.count == (try FinetuneModel(configOfFixture(classes: 7))).namedParameters().count)
    for (name, t) in pth.tensors { #expect(t.toFloats() == (try ref.tensor(name)).toFloats(), "\(name)") }
    if case .int(let e)? = pth.extras["epoch"] { #expect(e == 99) } else { Issue.record("no epoch") }

    let pre = try TorchCheckpoint(path: fixturesDir.appendingPathComponent("pretrain_paper.pth").path)
    #expect(pre.tensors["encoder.patch_embed.proj.weight"]?.shape == [48, 3, 2, 8, 8])
    guard case .namespace(let args)? = pre.extras["args"] else {
      Issue.record("args not read as a record")
      return
    }
    #expect(args["mask_type"]?.string == "tube")
  }

  @Test func pretrainedCheckpointLoadsIntoFinetuneModel() throws {
    // The pretraining fixture's encoder into a fine-tuning model of the same architecture.
    var cfg = SVFAPConfig()
    (cfg.imgSize, cfg.patchSize, cfg.dim, cfg.heads, cfg.stageDepths, cfg.bottleneckTokens, cfg.frames) = (32, 8, 48, 4, [2, 2, 2], 2, 16)
    let model = try FinetuneModel(cfg)
    let state = try TorchCheckpoint(path: fixturesDir.appendingPathComponent("pretrain_paper.pth").path).tensors
    let report = try Checkpoint.load(state, into: model)
    #expect(Set(report.new) == ["fc_norm.weight", "fc_norm.bias", "head.weight", "head.bias"])
    #expect(report.unused.contains("decoder.head.weight"))
    #expect(report.unused.contains("encoder.norm.weight"))
    #expect(model.blocks.count == 6)
    #expect(try model.patchEmbed.proj.weight.toFloats() == state["encoder.patch_embed.proj.weight"]!.toFloats())
  }

  @Test func checkpointOfAnotherArchitectureIsRefused() throws {
    let state = try TorchCheckpoint(path: fixturesDir.appendingPathComponent("finetune_tpsbt.pth").path).tensors
    let tiny = try FinetuneModel(try SVFAPConfig.preset("svfap-tiny"))
    #expect {
      try Checkpoint.load(state, into: tiny)
    } throws: { error in
      "\(error)".contains("patch_embed.proj.weight") && "\(error)".contains("[48, 3, 2, 8, 8]") && "\(error)".contains("[96, 3, 2, 16, 16]")
    }
  }

  @Test func hostilePickleIsRefused() throws {
    // cos\nsystem\n(S'echo pwned'\ntR. : the classic code-execution pickle.
    let evil = Data("cos\nsystem\n(X\u{0B}\u{00}\u{00}\u{00}echo pwnedtR.".utf8)
    #expect { try RestrictedUnpickler.load(evil) } throws: { "\($0)".contains("os.system") }
    let builtins = Data([0x80, 0x02] + Array("cbuiltins\neval\n.".utf8))
    #expect { try RestrictedUnpickler.load(builtins) } throws: { "\($0)".contains("builtins.eval") }
    // The same inside a torch-style zip archive.
    let dir = try tempDir()
    let path = dir.appendingPathComponent("evil.pth").path
    _ = try python(
      """
      import sys, zipfile, pickle, os
      class E:
          def __reduce__(self): return (os.system, ("echo pwned",))
      with zipfile.ZipFile(sys.argv[1], "w") as z:
          z.writestr("evil/data.pkl", pickle.dumps({"model": E()}, protocol=2))
      """, [path])
    #expect { try TorchCheckpoint(path: path) } throws: { "\($0)".contains("not allowed") }
  }

  @Test func hostileSafetensorsAreErrors() throws {
    let dir = try tempDir()
    func file(_ bytes: [UInt8]) throws -> String {
      let p = dir.appendingPathComponent(UUID().uuidString + ".safetensors").path
      try Data(bytes).write(to: URL(fileURLWithPath: p))
      return p
    }
    func header(_ json: String, data: Int) -> [UInt8] {
      let h = Array(json.utf8)
      return withUnsafeBytes(of: UInt64(h.count).littleEndian, Array.init) + h + [UInt8](repeating: 0, count: data)
    }
    let tooLong = withUnsafeBytes(of: UInt64(1 << 40).littleEndian, Array.init) + [UInt8]("{}".utf8)
    #expect { try SafeTensorsFile(path: try file(tooLong)) } throws: { "\($0)".contains("exceeds the file size") }
    #expect { try SafeTensorsFile(path: try file([1, 2, 3])) } throws: { "\($0)".contains("shorter") }
    let outOfRange = header(#"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, data: 8)
    #expect { try SafeTensorsFile(path: try file(outOfRange)) } throws: { "\($0)".contains("outside the data section") }
    let wrongSize = header(#"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}}"#, data: 16)
    #expect { try SafeTensorsFile(path: try file(wrongSize)) } throws: { "\($0)".contains("needs 12 bytes") }
    #expect { try SafeTensorsFile(path: try file(header("[1,2]", data: 0))) } throws: { "\($0)".contains("not a JSON object") }
    #expect { try TorchCheckpoint(path: try file([0x50, 0x4B, 0x03])) } throws: { _ in true }
  }
}

/// The small configuration of the fixtures (img 32, patch 8, C 48, 4 heads, depths 2/2/2, G 2, 8 frames).
func configOfFixture(classes: Int) -> SVFAPConfig {
  var cfg = SVFAPConfig()
  (cfg.imgSize, cfg.patchSize, cfg.dim, cfg.heads, cfg.stageDepths, cfg.bottleneckTokens, cfg.frames) = (32, 8, 48, 4, [2, 2, 2], 2, 8)
  cfg.numClasses = classes
  return cfg
}

/// The unpickler never traps: mutated real pickles and random bytes are errors or values, never crashes.
@Suite struct PickleRobustnessTests {
  @Test func mutatedPicklesNeverCrash() throws {
    let archive = fixturesDir.appendingPathComponent("pretrain_paper.pth").path
    let out = try python(
      """
      import sys, zipfile
      z = zipfile.ZipFile(sys.argv[1])
      n = [x for x in z.namelist() if x.endswith("data.pkl")][0]
      sys.stdout.write(z.read(n).hex())
      """, [archive])
    var bytes = [UInt8](repeating: 0, count: out.count / 2)
    var idx = out.startIndex
    for i in 0..<bytes.count {
      let next = out.index(idx, offsetBy: 2)
      bytes[i] = UInt8(out[idx..<next], radix: 16)!
      idx = next
    }
    #expect((try? RestrictedUnpickler.load(Data(bytes))) != nil)
    var state: UInt64 = 7
    func rand() -> Int {
      state = state &* 6364136223846793005 &+ 1
      return Int(state >> 33)
    }
    for _ in 0..<4000 {
      var b = bytes
      for _ in 0..<(1 + rand() % 4) { b[rand() % b.count] = UInt8(rand() % 256) }
      if rand() % 3 == 0 { b = Array(b.prefix(rand() % b.count)) }
      _ = try? RestrictedUnpickler.load(Data(b))
    }
    for _ in 0..<2000 { _ = try? RestrictedUnpickler.load(Data((0..<(rand() % 64)).map { _ in UInt8(rand() % 256) })) }
  }
}
