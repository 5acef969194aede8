import ArgumentParser
import Datasets
import Foundation
import Media

/// `svfap dataset prepare MANIFEST`: the face tracks of every video of a manifest (paths relative
/// to the manifest's folder), computed once into the face-track cache — as the authors preprocess
/// their datasets — with a progress bar; rows that fail are reported and skipped (exit 74).
enum DatasetPrepare {
  static func run(manifest: String) throws {
    let (m, _) = try Manifest.read(manifest)
    let base = URL(fileURLWithPath: manifest).deletingLastPathComponent().path
    let detector = try HaarCascade.shared()
    let terminal = isatty(1) == 1
    var failed = 0
    let start = Date()
    for (k, row) in m.rows.enumerated() {
      let path = row.path.hasPrefix("/") ? row.path : base + "/" + row.path
      do {
        let track = try FaceTrackCache.shared.track(
          for: try VideoReader(path: path), detector: detector)
        if !track.hasFace { printError("\(row.path): no face on any scanned frame") }
      } catch {
        failed += 1
        printError("\(row.path): \(error)")
      }
      let done = k + 1, total = m.rows.count
      let filled = total > 0 ? done * 30 / total : 30
      let bar = String(repeating: "#", count: filled) + String(repeating: " ", count: 30 - filled)
      let line = String(
        format: "[%@] %d/%d videos  %.1f s", bar, done, total, Date().timeIntervalSince(start))
      if terminal {
        FileHandle.standardOutput.write(Data(("\r" + line + (done == total ? "\n" : "")).utf8))
      } else if done == total || done % 10 == 0 {
        print(line)
      }
    }
    print("face tracks of \(m.rows.count - failed) videos in \(FaceTrackCache.shared.folder)")
    if failed > 0 { throw ExitCode(74) }
  }
}
