import Foundation
import TestSupport
import Testing

@testable import Script
@testable import Workbench

/// Finding 7 of issue 28: numbers could not get out (evaluate of a regression model gave only
/// PCC/CCC/MAE, dataset() no label values). Now evaluate returns per-video predictions and
/// targets, dataset() the values, and `export` writes what Python reads back (checked with numpy).
@Suite(.serialized) struct NumbersOutTests {
  @Test func evaluationsAndDatasetsGiveTheirNumbers() throws {
    let s = try SessionCommandTests.SyntheticSession()
    try s.session.interpreter.run(
      """
      t = model "svfap-tiny" task: "finetune" classes: 2 seed: 2
      r = evaluate(t, "traits.csv", split: "", clips: 1, crops: 1, frames: 16, stride: 1)
      d = dataset "traits.csv"
      name = d.labels[0]
      n = len(r[name].predicted)
      m = len(r[name].actual)
      v = len(r.videos)
      same = r[name].actual == d.values[name]
      show_scatter r[name].predicted r[name].actual name: name file: "scatter.png"
      """)
    let g = s.session.interpreter.globals
    #expect(g["n"] == .number(14) && g["m"] == .number(14) && g["v"] == .number(14))
    #expect(g["same"] == .bool(true))
    #expect(FileManager.default.fileExists(atPath: s.dir + "/scatter.png"))
  }

  @Test(.enabled(if: installed("python3"), "python3 is not installed (scripts/setup installs it)"))
  func exportedFilesReadBackInNumpy() throws {
    let s = try SessionCommandTests.SyntheticSession()
    try s.session.interpreter.run(
      """
      m = model "svfap-nano" seed: 3
      c = noise_clip(frames: 4, size: 32, seed: 1)
      train m c steps: 3 lr: 1 total: 3 autosave: false
      export c "clip.npy"
      export reconstruct(m, c, mask: tube(0.9, seed: 2)) "rec.safetensors"
      export m "log.csv"
      e = evaluate(f, "expressions.csv", split: "", clips: 1, crops: 1, frames: 16, stride: 1)
      export e "eval.csv"
      export [[1, 2], [3, 4], [5, 6]] "rows.npy"
      mean = c.mean
      """)
    guard case .number(let mean)? = s.session.interpreter.globals["mean"] else {
      Issue.record("no mean")
      return
    }
    let script = """
      import csv, json, sys, numpy as np
      from safetensors.numpy import load_file
      d = sys.argv[1]
      clip = np.load(d + "/clip.npy")
      rec = load_file(d + "/rec.safetensors")
      log = list(csv.DictReader(open(d + "/log.csv")))
      rows = [r for r in open(d + "/eval.csv") if not r.startswith("#")]
      ev = list(csv.DictReader(rows))
      comments = [r for r in open(d + "/eval.csv") if r.startswith("#")]
      print(json.dumps({
        "clip_shape": list(clip.shape), "clip_dtype": str(clip.dtype), "clip_mean": float(clip.mean()),
        "rec": sorted(rec.keys()), "prediction": list(rec["prediction"].shape),
        "log_steps": [int(r["step"]) for r in log], "log_keys": list(log[0].keys()),
        "eval_rows": len(ev), "eval_keys": list(ev[0].keys()),
        "eval_comments": [c.split(" = ")[0] for c in comments],
        "rows": np.load(d + "/rows.npy").tolist(),
      }))
      """
    try script.write(toFile: s.dir + "/read.py", atomically: true, encoding: .utf8)
    var status: Int32 = 0
    waitpid(
      try spawnProcess(
        "python3", [s.dir + "/read.py", s.dir], stdout: s.dir + "/out.json", keepStderr: true),
      &status, 0)
    let text = try String(contentsOfFile: s.dir + "/out.json", encoding: .utf8)
    let out = try #require(
      try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "\(text)")
    #expect(out["clip_shape"] as? [Int] == [1, 3, 4, 32, 32])
    #expect(out["clip_dtype"] as? String == "float32")
    #expect(abs((out["clip_mean"] as? Double ?? .nan) - mean) < 1e-5)
    #expect(out["rec"] as? [String] == ["clip", "loss", "prediction", "target", "zero_loss"])
    #expect(out["log_steps"] as? [Int] == [1, 2, 3])
    #expect(
      out["log_keys"] as? [String] == ["step", "loss", "lr", "grad_norm", "clips_per_second"])
    #expect(out["eval_rows"] as? Int == 14)
    #expect(out["eval_keys"] as? [String] == ["predicted", "actual", "videos"])
    #expect(out["eval_comments"] as? [String] == ["# uar", "# war", "# weighted_f1"])
    #expect(out["rows"] as? [[Double]] == [[1, 2], [3, 4], [5, 6]])
  }

  @Test func exportRefusesWhatAFormatCannotHold() throws {
    let s = try SessionCommandTests.SyntheticSession()
    func failure(_ code: String) -> String? {
      do { try s.session.interpreter.run(code) } catch { return "\(error)" }
      return nil
    }
    #expect(
      failure("export {a: [1], b: [2]} \"x.npy\"")?.contains("holds one numeric array") == true)
    #expect(failure("export {a: [1], b: [2, 3]} \"x.csv\"")?.contains("different lengths") == true)
    #expect(failure("export [1, [2]] \"x.csv\"")?.contains("mixes numbers and rows") == true)
    #expect(failure("export [1] \"x.txt\"")?.contains("not .txt") == true)
    #expect(failure("export f \"x.csv\"")?.contains("no training steps") == true)
  }
}
