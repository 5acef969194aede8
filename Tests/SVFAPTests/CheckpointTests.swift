import Foundation
import Pickle
import TestSupport
import Testing

@testable import SVFAP
@testable import Tensor

/// safetensors both ways with Python, the authors' .pth files, and hostile files.
@Suite struct CheckpointTests {
  @Test(
    .tags(.python),
    .enabled(if: installed("python3"), "python3 is not installed (scripts/setup installs it)"))
  func safetensorsRoundTripWithPython() throws {
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
    let pth = try TorchCheckpoint(
      path: fixturesDir.appendingPathComponent("finetune_tpsbt.pth").path)
    let ref = try SafeTensorsFile(
      path: fixturesDir.appendingPathComponent("finetune_tpsbt_fp32.safetensors").path)
    #expect(
      pth.tensors.count == (try FinetuneModel(configOfFixture(classes: 7))).namedParameters().count)
    for (name, t) in pth.tensors {
      #expect(t.toFloats() == (try ref.tensor(name)).toFloats(), "\(name)")
    }
    if case .int(let e)? = pth.extras["epoch"] {
      #expect(e == 99)
    } else {
      Issue.record("no epoch")
    }

    let pre = try TorchCheckpoint(
      path: fixturesDir.appendingPathComponent("pretrain_paper.pth").path)
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
    (
      cfg.imgSize, cfg.patchSize, cfg.dim, cfg.heads, cfg.stageDepths, cfg.bottleneckTokens,
      cfg.frames
    ) = (32, 8, 48, 4, [2, 2, 2], 2, 16)
    let model = try FinetuneModel(cfg)
    let state = try TorchCheckpoint(
      path: fixturesDir.appendingPathComponent("pretrain_paper.pth").path
    ).tensors
    let report = try Checkpoint.load(state, into: model)
    #expect(Set(report.new) == ["fc_norm.weight", "fc_norm.bias", "head.weight", "head.bias"])
    #expect(report.unused.contains("decoder.head.weight"))
    #expect(report.unused.contains("encoder.norm.weight"))
    #expect(model.blocks.count == 6)
    #expect(
      try model.patchEmbed.proj.weight.toFloats()
        == state["encoder.patch_embed.proj.weight"]!.toFloats())
  }

  @Test func checkpointOfAnotherArchitectureIsRefused() throws {
    let state = try TorchCheckpoint(
      path: fixturesDir.appendingPathComponent("finetune_tpsbt.pth").path
    ).tensors
    let tiny = try FinetuneModel(try SVFAPConfig.preset("svfap-tiny"))
    #expect {
      try Checkpoint.load(state, into: tiny)
    } throws: { error in
      "\(error)".contains("patch_embed.proj.weight") && "\(error)".contains("[48, 3, 2, 8, 8]")
        && "\(error)".contains("[96, 3, 2, 16, 16]")
    }
  }

  @Test(
    .tags(.python),
    .enabled(if: installed("python3"), "python3 is not installed (scripts/setup installs it)"))
  func hostilePickleIsRefused() throws {
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

  @Test(
    .tags(.python),
    .enabled(if: installed("python3"), "python3 is not installed (scripts/setup installs it)"))
  func hostileTorchArchivesAreRefused() throws {
    let dir = try tempDir()
    // Real torch-format archives, written by Python's zipfile and pickle (no torch): a negative
    // stride, a huge shape, one flipped byte of a storage, and a storage that unpacks far beyond
    // its tensor.
    _ = try python(
      #"""
      import sys, types, zipfile, pickle, struct
      torch, utils = types.ModuleType("torch"), types.ModuleType("torch._utils")
      def _rebuild_tensor_v2(*a): pass
      _rebuild_tensor_v2.__module__ = "torch._utils"; utils._rebuild_tensor_v2 = _rebuild_tensor_v2
      class FloatStorage: pass
      FloatStorage.__module__ = "torch"; torch.FloatStorage = FloatStorage
      sys.modules["torch"], sys.modules["torch._utils"] = torch, utils
      class Storage:
          def __init__(self, n): self.n = n
      class T:
          def __init__(self, n, shape, stride): self.s, self.shape, self.stride = Storage(n), shape, stride
          def __reduce__(self): return (_rebuild_tensor_v2, (self.s, 0, tuple(self.shape), tuple(self.stride), False, {}))
      class P(pickle.Pickler):
          def persistent_id(self, obj):
              return ("storage", FloatStorage, "0", "cpu", obj.n) if isinstance(obj, Storage) else None
      def archive(path, shape, stride, storage, compress=zipfile.ZIP_STORED):
          import io
          buf = io.BytesIO(); P(buf, protocol=2).dump({"w": T(len(storage) // 4, shape, stride)})
          with zipfile.ZipFile(path, "w", compression=compress) as z:
              z.writestr("a/data.pkl", buf.getvalue()); z.writestr("a/byteorder", "little"); z.writestr("a/data/0", storage)
      d = sys.argv[1]
      four = struct.pack("<4f", 1, 2, 3, 4)
      archive(d + "/ok.pth", [4], [1], four)
      archive(d + "/negative.pth", [4], [-1], four)
      archive(d + "/huge.pth", [2**40, 2**40], [1, 1], four)
      archive(d + "/bomb.pth", [4], [1], four + bytes(200 * 2**20), zipfile.ZIP_DEFLATED)
      raw = bytearray(open(d + "/ok.pth", "rb").read())
      i = raw.index(four); raw[i + 5] ^= 0x40
      open(d + "/flipped.pth", "wb").write(raw)
      """#, [dir.path])
    let ok = try TorchCheckpoint(path: dir.appendingPathComponent("ok.pth").path)
    #expect(ok.tensors["w"]?.toDoubles() == [1, 2, 3, 4])
    #expect { try TorchCheckpoint(path: dir.appendingPathComponent("negative.pth").path) } throws: {
      "\($0)".contains("negative strides are refused")
    }
    #expect { try TorchCheckpoint(path: dir.appendingPathComponent("huge.pth").path) } throws: {
      "\($0)".contains("reaches element") || "\($0)".contains("overflows")
    }
    #expect { try TorchCheckpoint(path: dir.appendingPathComponent("flipped.pth").path) } throws: {
      "\($0)".contains("CRC-32")
    }
    #expect { try TorchCheckpoint(path: dir.appendingPathComponent("bomb.pth").path) } throws: {
      "\($0)".contains("unpacks to")
    }
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
      return withUnsafeBytes(of: UInt64(h.count).littleEndian, Array.init) + h
        + [UInt8](repeating: 0, count: data)
    }
    let tooLong = withUnsafeBytes(of: UInt64(1 << 40).littleEndian, Array.init) + [UInt8]("{}".utf8)
    #expect { try SafeTensorsFile(path: try file(tooLong)) } throws: {
      "\($0)".contains("exceeds the file size")
    }
    #expect { try SafeTensorsFile(path: try file([1, 2, 3])) } throws: {
      "\($0)".contains("shorter")
    }
    let outOfRange = header(#"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, data: 8)
    #expect { try SafeTensorsFile(path: try file(outOfRange)) } throws: {
      "\($0)".contains("outside the data section")
    }
    let wrongSize = header(#"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}}"#, data: 16)
    #expect { try SafeTensorsFile(path: try file(wrongSize)) } throws: {
      "\($0)".contains("needs 12 bytes")
    }
    #expect { try SafeTensorsFile(path: try file(header("[1,2]", data: 0))) } throws: {
      "\($0)".contains("not a JSON object")
    }
    let huge = header(
      #"{"w":{"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,16]}}"#, data: 16)
    #expect { try SafeTensorsFile(path: try file(huge)) } throws: {
      "\($0)".contains("more elements than any file can hold")
    }
    #expect { try SafeTensorsFile(path: "/dev/zero") } throws: {
      "\($0)".contains("not a regular file")
    }
    #expect { try TorchCheckpoint(path: "/dev/zero") } throws: {
      "\($0)".contains("not a readable regular file")
    }
    #expect { try TorchCheckpoint(path: try file([0x50, 0x4B, 0x03])) } throws: { _ in true }
  }
}

/// The small configuration of the fixtures (img 32, patch 8, C 48, 4 heads, depths 2/2/2, G 2, 8
/// frames).
func configOfFixture(classes: Int) -> SVFAPConfig {
  var cfg = SVFAPConfig()
  (
    cfg.imgSize, cfg.patchSize, cfg.dim, cfg.heads, cfg.stageDepths, cfg.bottleneckTokens,
    cfg.frames
  ) = (32, 8, 48, 4, [2, 2, 2], 2, 8)
  cfg.numClasses = classes
  return cfg
}
