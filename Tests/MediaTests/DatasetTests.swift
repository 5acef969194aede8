import Foundation
import TestSupport
import Testing

@testable import Datasets
@testable import Media

/// Every benchmark reader on a small tree shaped like the official one, and the manifest format.
@Suite struct DatasetTests {
  func tree(_ files: [String: String]) throws -> String {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent(
      "svfap-ds-\(UUID().uuidString)"
    ).path
    for (rel, text) in files {
      let p = root + "/" + rel
      try FileManager.default.createDirectory(
        atPath: (p as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
      try text.write(toFile: p, atomically: true, encoding: .utf8)
    }
    return root
  }

  @Test func dfew() throws {
    let root = try tree([
      "EmoLabel_DataSplit/train(single-labeled)/set_1.csv": "video_name,label\n1,1\n2,7\n",
      "EmoLabel_DataSplit/test(single-labeled)/set_1.csv": "video_name,label\n3,3\n",
    ])
    let m = try DatasetReaders.read("dfew", root: root)
    #expect(
      m.rows.map(\.path) == [
        "Clip/clip_224x224/00001", "Clip/clip_224x224/00002", "Clip/clip_224x224/00003",
      ])
    #expect(
      m.rows.map { $0.labels[0] } == [0, 6, 2] && m.rows.map(\.split) == ["train", "train", "test"]
        && m.rows[0].fold == 1)
    #expect(m.classNames.count == 7)
  }

  @Test func ferv39kAndMafw() throws {
    let f = try tree([
      "4_setups/All_scenes/train_All.csv": "Action/Ball/Angry/0001 0\nDaily/Home/Happy/0002 3\n",
      "4_setups/All_scenes/test_All.csv": "Action/Ball/Sad/0003 5\n",
    ])
    let m = try DatasetReaders.read("ferv39k", root: f)
    #expect(
      m.rows.count == 3 && m.rows[1].labels == [3] && m.rows[2].split == "test"
        && m.rows[0].path == "2_ClipsforFaceCrop/Action/Ball/Angry/0001")
    let w = try tree([
      "Train & Test Set/single/no_caption/set_1/train.txt":
        "00019.mp4 anger\n00020.mp4 disappointment\n",
      "Train & Test Set/single/no_caption/set_1/test.txt": "00021.mp4 contempt\n",
    ])
    let mm = try DatasetReaders.read("mafw", root: w)
    #expect(
      mm.rows.map { $0.labels[0] } == [0, 10, 7] && mm.rows[0].path == "data/frames/00019"
        && mm.classNames.count == 11)
  }

  @Test func subjectIndependentFolds() throws {
    let c = try tree([
      "VideoFlash/1001_DFA_ANG_XX.flv": "", "VideoFlash/1002_IEO_HAP_HI.flv": "",
      "VideoFlash/1001_IEO_SAD_LO.flv": "",
    ])
    let crema = try DatasetReaders.read("crema-d", root: c)
    #expect(
      crema.rows.count == 3
        && Set(crema.rows.filter { $0.subject == "1001" }.compactMap(\.fold)).count == 1)
    #expect(crema.rows.first { $0.path.contains("HAP") }?.labels == [3])
    let r = try tree([
      "Actor_01/01-01-03-01-01-01-01.mp4": "", "Actor_02/02-01-08-02-02-01-02.mp4": "",
      "Actor_02/03-01-05-01-01-01-02.wav": "",
    ])
    let rav = try DatasetReaders.read("ravdess", root: r)
    #expect(
      rav.rows.map { $0.labels[0] } == [2, 7] && rav.rows.map(\.subject) == ["01", "02"]
        && rav.rows[0].fold != rav.rows[1].fold)
    let e = try tree([
      "subject 1/anger/sentence 1/s1_an_1.avi": "", "subject 2/surprise/sentence 3/s2_su_3.avi": "",
    ])
    let ent = try DatasetReaders.read("enterface05", root: e)
    #expect(ent.rows.map { $0.labels[0] } == [0, 5] && ent.rows.map(\.subject) == ["1", "2"])
  }

  @Test func dimensionalAndLevels() throws {
    let w = try tree([
      "annotations.csv": "clip,arousal,valence,dominance\na.mp4,0.5,-0.25,0.1\nb.mp4,0.1,0.3,0.2\n"
    ])
    let ww = try DatasetReaders.read("werewolf-xl", root: w)
    #expect(
      ww.labelNames == ["arousal", "valence", "dominance"]
        && ww.rows[0].labels == [0.5, -0.25, 0.1] && ww.rows[0].path == "clips/a.mp4")
    let a = try tree([
      "labels.csv": "participant,task,arousal,valence\np01,task1,5,1\n",
      "split.csv": "participant,split\np01,test\n",
    ])
    let av = try DatasetReaders.read("avcaffe", root: a)
    #expect(
      av.rows[0].labels == [4, 0] && av.rows[0].split == "test"
        && av.rows[0].path == "videos/p01/task1.mp4")
    let bad = try tree(["labels.csv": "participant,task,arousal,valence\np01,task1,9,1\n"])
    #expect { try DatasetReaders.read("avcaffe", root: bad) } throws: { "\($0)".contains("line 2") }
  }

  @Test(
    .tags(.python),
    .enabled(if: installed("python3"), "python3 is not installed (scripts/setup installs it)"))
  func firstImpressionsFromThePickledAnnotations() throws {
    let root = try tree(["train-1/training80_01/vidA.001.mp4": ""])
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = [
      "python3", "-c",
      """
      import pickle, sys
      t = ["openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism", "interview"]
      d = {k: {"vidA.001.mp4": 0.1 * (i + 1)} for i, k in enumerate(t)}
      open(sys.argv[1], "wb").write(pickle.dumps(d, protocol=2))
      """, root + "/annotation_training.pkl",
    ]
    try p.run()
    p.waitUntilExit()
    let m = try DatasetReaders.read("first-impressions", root: root)
    #expect(
      m.rows.count == 1 && m.rows[0].path == "train-1/training80_01/vidA.001.mp4"
        && m.rows[0].split == "train")
    for (a, b) in zip(m.rows[0].labels, [0.1, 0.2, 0.3, 0.4, 0.5]) { #expect(abs(a - b) < 1e-12) }
  }

  @Test func voxceleb2AndUnknownNamesAndEmptyTrees() throws {
    let root = try tree([
      "dev/mp4/id00012/21Uxsk56VDQ/00001.mp4": "", "dev/mp4/id00015/x/00002.mp4": "",
    ])
    let m = try DatasetReaders.read("voxceleb2", root: root)
    #expect(m.rows.count == 2 && m.rows[0].subject == "id00012" && m.labelNames.isEmpty)
    #expect { try DatasetReaders.read("kinetics", root: root) } throws: {
      "\($0)".contains("unknown dataset")
    }
    #expect { try DatasetReaders.read("dfew", root: root) } throws: {
      "\($0)".contains("no samples found")
    }
  }

  @Test func manifestRoundTripAndBadRows() throws {
    let m = Manifest(
      labelNames: ["label"], classNames: ["a", "b"],
      rows: [
        ManifestRow(path: "x.mp4", labels: [1], split: "train", fold: 2, subject: "s1"),
        ManifestRow(path: "y, z.mp4", labels: [0], split: "test", fold: 1, subject: "s2"),
      ])
    let dir = try tree([:])
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    try m.write(to: dir + "/m.csv")
    #expect(try Manifest.read(dir + "/m.csv").manifest == m)
    // The authors' "path label" files, and a bad row.
    try "clip/001 3\nclip/002 x\nclip/003 1\n".write(
      toFile: dir + "/split.txt", atomically: true, encoding: .utf8)
    #expect { try Manifest.read(dir + "/split.txt") } throws: {
      "\($0)".contains("line 2") && "\($0)".contains("split.txt")
    }
    let (ok, skipped) = try Manifest.read(dir + "/split.txt", skipBad: true)
    #expect(ok.rows.map(\.path) == ["clip/001", "clip/003"] && skipped.count == 1)
    #expect { try ok.validateClasses(2, path: "split.txt") } throws: {
      "\($0)".contains("outside 0..<2")
    }
  }
}

/// The background loader: deterministic for a seed, bounded prefetch, bad rows skipped or stopping.
@Suite struct ClipLoaderTests {
  @Test func batchesAreDeterministicAndBadRowsAreReported() throws {
    let media = VideoReaderTests.media.path
    let rows = [
      ManifestRow(path: "single_face.mp4", labels: [0]),
      ManifestRow(path: "missing.mp4", labels: [1]),
      ManifestRow(path: "face_noface.mov", labels: [2]),
      ManifestRow(path: "face_frames", labels: [3]),
      ManifestRow(path: "no_face.mp4", labels: [4]),
    ]
    let m = Manifest(labelNames: ["label"], rows: rows)
    var spec = ClipSpec()
    (spec.frames, spec.stride, spec.size) = (4, 2, 32)
    func run() throws -> ([[[Double]]], [Float], Int) {
      let loader = ClipLoader(
        manifest: m, root: media, spec: spec, batch: 2, shuffle: true, seed: 11, randomStart: true)
      var labels: [[[Double]]] = [], firsts: [Float] = []
      while let b = try loader.next() {
        #expect(b.clips.shape[1...] == [3, 4, 32, 32])
        labels.append(b.labels)
        firsts.append(b.clips.toFloats()[0])
      }
      return (labels, firsts, loader.skipped.count)
    }
    let a = try run(), b = try run()
    #expect(a.0 == b.0 && a.1 == b.1)
    #expect(a.2 == 1 && a.0.flatMap { $0 }.count == 4)
    let stopping = ClipLoader(
      manifest: m, root: media, spec: spec, batch: 5, shuffle: false, seed: 0, randomStart: false,
      onBadRow: .stop)
    #expect { _ = try stopping.next() } throws: {
      "\($0)".contains("manifest row 2") && "\($0)".contains("missing.mp4")
    }
  }
}
