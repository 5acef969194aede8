import Foundation
import Testing

@testable import Datasets
@testable import Workbench

/// `svfap dataset prepare MANIFEST --crops DIR` as a person runs it: every video with a face becomes
/// a face-cropped 160 × 160 video in DIR, the manifest of the crops keeps labels and splits, a video
/// without a face is reported and left out, and a session trains on the crops.
@Suite(.serialized)
struct DatasetPrepareTests {
  @Test func preparedCropsAndTheirManifestTrain() throws {
    let dir = try scratchFolder("prepare")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let face = exampleVideo("single_face.mp4"), none = exampleVideo("no_face.mp4")
    try "path,label,split\n\(face),1,train\n\(none),0,train\n".write(
      toFile: dir + "/set.csv", atomically: true, encoding: .utf8)
    setenv("SVFAP_CACHE_DIR", dir + "/cache", 1)
    defer { unsetenv("SVFAP_CACHE_DIR") }
    let pid = try spawnProcess(
      REPLTests.svfap, ["dataset", "prepare", dir + "/set.csv", "--crops", dir + "/faces"],
      stdout: dir + "/out.txt", keepStderr: true)
    var status: Int32 = 0
    waitpid(pid, &status, 0)
    let out = (try? String(contentsOfFile: dir + "/out.txt", encoding: .utf8)) ?? ""
    #expect(status == 0, "\(out)")
    #expect(out.contains("no_face.mp4: no face on any scanned frame"), "\(out)")
    let (m, _) = try Manifest.read(dir + "/faces/set-faces.csv")
    #expect(m.rows.count == 1 && m.rows.first?.path == "00000-single_face.mp4")
    #expect(m.rows.first?.labels == [1] && m.rows.first?.split == "train")
    // The crops train with the default center crop (the frames are the crops already).
    let session = quietSession(in: dir)  // held: commands refer to their session unowned
    try session.interpreter.run(
      """
      c = load("\(dir)/faces/00000-single_face.mp4")
      assert c.shape == [1, 3, 16, 160, 160]
      m = model "svfap-tiny" seed: 1
      r = train(m, "\(dir)/faces/set-faces.csv", steps: 1, stride: 2, autosave: false)
      assert r.step == 1
      """)
  }
}
