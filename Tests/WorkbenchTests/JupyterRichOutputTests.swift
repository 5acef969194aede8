import Foundation
import TestSupport
import Testing

/// Issue 32 items 3–6 through jupyter_client, as front ends talk to the kernel: inspection of
/// variables and calls (and hostile cursors), training progress as one display updated in place,
/// `live:` as an image/png updated in place, records as HTML tables, one result per cell, logos.
/// Part of `JupyterKernelTests` (serialized: the kernels' tests set JUPYTER_PATH one at a time).
extension JupyterKernelTests {
  static let richDriver = #"""
    import json, sys
    from jupyter_client.manager import start_new_kernel
    km, kc = start_new_kernel(kernel_name="svfap", startup_timeout=60)
    def run(code, timeout=300):
        msgs = []
        reply = kc.execute_interactive(code, output_hook=lambda m: msgs.append((m["msg_type"], m["content"])), timeout=timeout)
        return reply["content"]["status"], msgs
    r = {}
    status, msgs = run('m = model "svfap-nano" seed: 1\nc = noise_clip(frames: 4, size: 32, seed: 1)\n'
                       'train m c steps: 40 lr: 1 total: 40 live: 10 every: 5 autosave: false')
    r["train_status"] = status
    shown = [(k, c) for k, c in msgs if k in ("display_data", "update_display_data") and "display_id" in c.get("transient", {})]
    progress = [(k, c) for k, c in shown if "text/html" in c["data"] and "<progress" in c["data"]["text/html"]]
    r["progress_kinds"] = [k for k, _ in progress]
    r["progress_ids"] = sorted({c["transient"]["display_id"] for _, c in progress})
    r["progress_last"] = progress[-1][1]["data"]["text/plain"] if progress else ""
    live = [(k, c) for k, c in shown if "image/png" in c["data"]]
    r["live_kinds"] = [k for k, _ in live]
    r["live_ids"] = sorted({c["transient"]["display_id"] for _, c in live})
    r["stream"] = "".join(c["text"] for k, c in msgs if k == "stream")
    r["train_results"] = [c["data"]["text/plain"] for k, c in msgs if k == "execute_result"]
    _, msgs = run("1 + 1\n2 + 3")
    r["results"] = [c["data"]["text/plain"] for k, c in msgs if k == "execute_result"]
    _, msgs = run("y = 5\nfor i in 1..3 { i }")
    r["loop_results"] = [c["data"]["text/plain"] for k, c in msgs if k == "execute_result"]
    _, msgs = run('{a: 1, b: [1, 2, 3], c: {d: "<x>"}}')
    r["html"] = [c["data"].get("text/html", "") for k, c in msgs if k == "execute_result"]
    def inspect(code, pos):
        c = kc.inspect(code, pos, reply=True, timeout=30)["content"]
        return [c["status"], c["found"], c["data"].get("text/plain", "")]
    r["inspect_variable"] = inspect("print c", 7)
    r["inspect_call"] = inspect("tube(0.9, seed: 2)", 6)
    r["inspect_option"] = inspect("tube(0.9, seed: 2)", 12)
    r["inspect_statement"] = inspect("train m c ste", 13)
    r["inspect_command"] = inspect("tube", 2)
    r["inspect_huge"] = inspect("x" * 300000, 10**9)
    r["inspect_string"] = inspect('load "tube(', 9)
    r["inspect_negative"] = inspect("tube(", -5)
    r["alive"] = run("print y")[0]
    kc.stop_channels()
    km.shutdown_kernel(now=True)
    print(json.dumps(r))
    """#

  @Test func progressLiveCurvesTablesAndInspectionThroughJupyter() throws {
    let dir = try JupyterKernelTests.installedKernel("rich")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let spec = dir + "/share/jupyter/kernels/svfap"
    for logo in ["logo-32x32.png", "logo-64x64.png", "logo-svg.svg"] {
      #expect(FileManager.default.fileExists(atPath: spec + "/" + logo), "\(logo) installed")
    }
    let r = try Self.runDriver(Self.richDriver, in: dir)
    // Progress: one display, shown then updated in place, ending at 40/40; no stream line per step.
    #expect(r["train_status"] as? String == "ok")
    let kinds = r["progress_kinds"] as? [String] ?? []
    #expect(
      kinds.first == "display_data" && kinds.dropFirst().allSatisfy { $0 == "update_display_data" })
    #expect(kinds.count >= 2 && (r["progress_ids"] as? [String])?.count == 1)
    #expect((r["progress_last"] as? String)?.hasPrefix("step 40/40 (100 %") == true)
    let stream = r["stream"] as? String ?? ""
    #expect(!stream.contains("step     5") && !stream.contains("\u{0C}"), "\(stream)")
    // live: one image, updated in place every 10 steps.
    let live = r["live_kinds"] as? [String] ?? []
    #expect(
      live == ["display_data", "update_display_data", "update_display_data", "update_display_data"])
    #expect((r["live_ids"] as? [String])?.count == 1)
    #expect((r["train_results"] as? [String])?.count == 1, "the call's record, once")
    // One result per cell, the last statement's; none when the last is a loop.
    #expect(r["results"] as? [String] == ["5"])
    #expect(r["loop_results"] as? [String] == [])
    let html = (r["html"] as? [String])?.first ?? ""
    #expect(html.hasPrefix("<table") && html.contains("<th style=\"text-align:left\">d</th>"))
    #expect(html.contains("&lt;x&gt;") && !html.contains("<x>"))
    // Inspection.
    func inspected(_ name: String) -> (found: Bool, text: String) {
      let v = r[name] as? [Any] ?? []
      return (
        v.count > 1 ? v[1] as? Bool ?? false : false, v.count > 2 ? v[2] as? String ?? "" : ""
      )
    }
    let variable = inspected("inspect_variable")
    #expect(
      variable.found && variable.text.hasPrefix("c: clip") && variable.text.contains("fields:"))
    let call = inspected("inspect_call")
    #expect(call.found && call.text.hasPrefix("tube [RATIO]"))
    let option = inspected("inspect_option")
    #expect(option.found && option.text.hasPrefix("option seed:") && option.text.contains("▶ seed"))
    let statement = inspected("inspect_statement")
    #expect(
      statement.found && statement.text.hasPrefix("train MODEL CLIPS"),
      "\(statement.text.prefix(80))")
    #expect(inspected("inspect_command").text.hasPrefix("tube [RATIO]"))
    #expect((r["inspect_huge"] as? [Any])?.first as? String == "ok")
    #expect(!inspected("inspect_string").found, "inside a string nothing is inspected")
    #expect((r["inspect_negative"] as? [Any])?.first as? String == "ok")
    #expect(r["alive"] as? String == "ok")
  }
}
