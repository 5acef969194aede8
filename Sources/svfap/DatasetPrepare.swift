import ArgumentParser
import Datasets
import Foundation
import Media
import SVFAP
import Tools

/// `svfap dataset prepare MANIFEST [--crops DIR]`: the face tracks of every video of a manifest
/// (paths relative to the manifest's folder), computed once into the face-track cache — as the
/// authors preprocess their datasets — and with `--crops` every video face-cropped into DIR plus a
/// manifest of the crops (train on it with crop: "center": the frames are already square faces);
/// a progress bar; rows that fail are reported and skipped (exit 74).
enum DatasetPrepare {
  static func run(
    manifest: String, crops: String? = nil, size: Int = 160,
    detector kind: FaceDetectors.Kind = .mtcnn
  ) throws {
    let (m, _) = try Manifest.read(manifest)
    let base = URL(fileURLWithPath: manifest).deletingLastPathComponent().path
    MTCNNWeights.register()
    let detector = try FaceDetectors.finder(kind)
    if let crops {
      do {
        try FileManager.default.createDirectory(atPath: crops, withIntermediateDirectories: true)
      } catch {
        printError("cannot create the crops folder \(crops): \(error.localizedDescription)")
        throw ExitCode(74)
      }
    }
    var cropped = m
    cropped.rows = []
    let terminal = isatty(1) == 1
    var failed = 0
    let start = Date()
    for (k, row) in m.rows.enumerated() {
      let path = row.path.hasPrefix("/") ? row.path : base + "/" + row.path
      do {
        let reader = try VideoReader(path: path)
        let track = try FaceTrackCache.shared.track(for: reader, detector: detector)
        if !track.hasFace {
          printError("\(row.path): no face on any scanned frame")
        } else if let crops {
          // One file per row: its stem and its row number keep names apart.
          let stem = fileStem(row.path)
          let name = String(format: "%05d-", k) + stem + ".mp4"
          try reader.writeFaceCrops(track: track, to: crops + "/" + name, size: size)
          var face = row
          face.path = name
          cropped.rows.append(face)
        }
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
    if let crops {
      let stem = fileStem(manifest)
      let out = crops + "/" + stem + "-faces.csv"
      try cropped.write(to: out)
      print(
        "\(cropped.rows.count) face-cropped videos (\(size) x \(size)) and their manifest \(out)")
    }
    if failed > 0 { throw ExitCode(74) }
  }
}
