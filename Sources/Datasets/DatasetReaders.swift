import Foundation
import Media
import Pickle
import SafeFiles

/// Readers that turn each benchmark's official layout into a `Manifest` (docs/DATASETS.md shows
/// each expected tree). Class indices follow the order in `classNames`.
public enum DatasetReaders {
  /// The readers by name.
  public static let names = [
    "dfew", "ferv39k", "mafw", "crema-d", "ravdess", "enterface05", "werewolf-xl", "avcaffe",
    "first-impressions", "voxceleb2",
  ]

  /// Reads the dataset rooted at `root` with the named reader.
  public static func read(_ name: String, root: String) throws -> Manifest {
    switch name {
    case "dfew": return try dfew(root)
    case "ferv39k": return try ferv39k(root)
    case "mafw": return try mafw(root)
    case "crema-d": return try cremaD(root)
    case "ravdess": return try ravdess(root)
    case "enterface05": return try enterface(root)
    case "werewolf-xl": return try werewolf(root)
    case "avcaffe": return try avcaffe(root)
    case "first-impressions": return try firstImpressions(root)
    case "voxceleb2": return try voxceleb2(root)
    default:
      throw MediaError(root, "unknown dataset '\(name)' (known: \(names.joined(separator: ", ")))")
    }
  }

  static func files(under root: String, extensions: Set<String>) -> [String] {
    guard let e = FileManager.default.enumerator(atPath: root) else { return [] }
    var out: [String] = []
    while let p = e.nextObject() as? String {
      if extensions.contains((p as NSString).pathExtension.lowercased()) { out.append(p) }
    }
    return out.sorted()
  }

  static func lines(_ path: String) throws -> [String] {
    let t: String
    do { t = try SafeFile.readText(path) } catch {
      throw MediaError(path, "cannot read the annotation file: \(error.reason)")
    }
    return t.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
      .filter { !$0.isEmpty }
  }

  static func require(_ rows: [ManifestRow], _ root: String, _ what: String) throws -> [ManifestRow]
  {
    guard !rows.isEmpty else {
      throw MediaError(root, "no samples found; expected \(what) (see docs/DATASETS.md)")
    }
    return rows
  }

  /// DFEW: Clip/clip_224x224/<clip>/ frame folders;
  /// EmoLabel_DataSplit/{train,test}(single-labeled)/set_<k>.csv with "video_name,label", labels
  /// 1..7 (Happy, Sad, Neutral, Angry, Surprise, Disgust, Fear).
  static func dfew(_ root: String) throws -> Manifest {
    let classes = ["happy", "sad", "neutral", "angry", "surprise", "disgust", "fear"]
    var rows: [ManifestRow] = []
    for fold in 1...5 {
      for split in ["train", "test"] {
        let file = "\(root)/EmoLabel_DataSplit/\(split)(single-labeled)/set_\(fold).csv"
        guard FileManager.default.fileExists(atPath: file) else { continue }
        for l in try lines(file).dropFirst() {
          let c = l.split(separator: ",")
          guard c.count >= 2, let y = Int(c[1]), (1...7).contains(y) else {
            throw MediaError(file, "bad row '\(l)'")
          }
          let clip = String(format: "%05d", Int(c[0]) ?? 0)
          rows.append(
            ManifestRow(
              path: "Clip/clip_224x224/\(Int(c[0]) != nil ? clip : String(c[0]))",
              labels: [Double(y - 1)], split: split, fold: fold))
        }
      }
    }
    return Manifest(
      labelNames: ["label"], classNames: classes,
      rows: try require(rows, root, "EmoLabel_DataSplit/train(single-labeled)/set_1.csv"))
  }

  /// FERV39k: 4_setups/All_scenes/{train,test}_All.csv with "clip/path label" (0..6: Angry,
  /// Disgust, Fear, Happy, Neutral, Sad, Surprise); frames under 2_ClipsforFaceCrop/.
  static func ferv39k(_ root: String) throws -> Manifest {
    let classes = ["angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"]
    var rows: [ManifestRow] = []
    for split in ["train", "test"] {
      let file = "\(root)/4_setups/All_scenes/\(split)_All.csv"
      guard FileManager.default.fileExists(atPath: file) else { continue }
      for l in try lines(file) {
        let c = l.split(whereSeparator: { $0 == " " || $0 == "," })
        guard c.count >= 2, let y = Int(c[c.count - 1]), (0..<7).contains(y) else { continue }
        rows.append(
          ManifestRow(path: "2_ClipsforFaceCrop/" + c[0], labels: [Double(y)], split: split))
      }
    }
    return Manifest(
      labelNames: ["label"], classNames: classes,
      rows: try require(rows, root, "4_setups/All_scenes/train_All.csv"))
  }

  /// MAFW: data/frames/<clip>/ frame folders; "Train & Test
  /// Set/single/no_caption/set_<k>/{train,test}.txt" with "clip label_name" over 11 classes.
  static func mafw(_ root: String) throws -> Manifest {
    let classes = [
      "anger", "disgust", "fear", "happiness", "neutral", "sadness", "surprise", "contempt",
      "anxiety", "helplessness", "disappointment",
    ]
    var rows: [ManifestRow] = []
    for fold in 1...5 {
      for split in ["train", "test"] {
        let file = "\(root)/Train & Test Set/single/no_caption/set_\(fold)/\(split).txt"
        guard FileManager.default.fileExists(atPath: file) else { continue }
        for l in try lines(file) {
          let c = l.split(separator: " ")
          guard c.count >= 2, let y = classes.firstIndex(of: c[1].lowercased()) else {
            throw MediaError(file, "bad row '\(l)'")
          }
          let clip = (String(c[0]) as NSString).deletingPathExtension
          rows.append(
            ManifestRow(path: "data/frames/\(clip)", labels: [Double(y)], split: split, fold: fold))
        }
      }
    }
    return Manifest(
      labelNames: ["label"], classNames: classes,
      rows: try require(rows, root, "Train & Test Set/single/no_caption/set_1/train.txt"))
  }

  /// Subject-independent folds: subjects sorted and dealt round-robin into k folds.
  static func assignFolds(_ rows: inout [ManifestRow], k: Int) {
    let subjects = Array(Set(rows.compactMap(\.subject))).sorted()
    let fold = Dictionary(uniqueKeysWithValues: subjects.enumerated().map { ($1, $0 % k + 1) })
    for i in rows.indices { rows[i].fold = rows[i].subject.flatMap { fold[$0] } }
  }

  /// CREMA-D: VideoFlash/<actor>_<sentence>_<EMO>_<level>.flv; 6 classes; 5 subject-independent
  /// folds.
  static func cremaD(_ root: String) throws -> Manifest {
    let codes = ["ANG", "DIS", "FEA", "HAP", "NEU", "SAD"],
      classes = ["anger", "disgust", "fear", "happy", "neutral", "sad"]
    var rows: [ManifestRow] = []
    for f in files(under: root + "/VideoFlash", extensions: ["flv", "mp4"]) {
      let parts = ((f as NSString).lastPathComponent as NSString).deletingPathExtension.split(
        separator: "_")
      guard parts.count >= 3, let y = codes.firstIndex(of: String(parts[2])) else { continue }
      rows.append(
        ManifestRow(path: "VideoFlash/" + f, labels: [Double(y)], subject: String(parts[0])))
    }
    assignFolds(&rows, k: 5)
    return Manifest(
      labelNames: ["label"], classNames: classes,
      rows: try require(rows, root, "VideoFlash/1001_DFA_ANG_XX.flv"))
  }

  /// RAVDESS: Actor_XX/MM-VV-EE-II-SS-RR-AA.mp4 (modality 01/02 = with video); 8 classes from EE;
  /// 6 subject-independent folds.
  static func ravdess(_ root: String) throws -> Manifest {
    let classes = ["neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised"]
    var rows: [ManifestRow] = []
    for f in files(under: root, extensions: ["mp4"]) {
      let parts = ((f as NSString).lastPathComponent as NSString).deletingPathExtension.split(
        separator: "-"
      ).compactMap { Int($0) }
      guard parts.count == 7, parts[0] == 1 || parts[0] == 2, (1...8).contains(parts[2]) else {
        continue
      }
      rows.append(
        ManifestRow(
          path: f, labels: [Double(parts[2] - 1)], subject: String(format: "%02d", parts[6])))
    }
    assignFolds(&rows, k: 6)
    return Manifest(
      labelNames: ["label"], classNames: classes,
      rows: try require(rows, root, "Actor_01/01-01-03-01-01-01-01.mp4"))
  }

  /// eNTERFACE05: subject N/<emotion>/sentence K/*.avi; 6 classes; 5 subject-independent folds.
  static func enterface(_ root: String) throws -> Manifest {
    let classes = ["anger", "disgust", "fear", "happiness", "sadness", "surprise"]
    var rows: [ManifestRow] = []
    for f in files(under: root, extensions: ["avi"]) {
      let comps = f.split(separator: "/").map { $0.lowercased() }
      guard let s = comps.first(where: { $0.hasPrefix("subject") }),
        let y = comps.compactMap({ classes.firstIndex(of: $0) }).first
      else { continue }
      rows.append(
        ManifestRow(
          path: f, labels: [Double(y)],
          subject: s.replacingOccurrences(of: "subject", with: "").trimmingCharacters(
            in: .whitespaces)))
    }
    assignFolds(&rows, k: 5)
    return Manifest(
      labelNames: ["label"], classNames: classes,
      rows: try require(rows, root, "subject 1/anger/sentence 1/s1_an_1.avi"))
  }

  /// Werewolf-XL: annotations.csv "clip,arousal,valence,dominance[,subject]"; videos under clips/;
  /// 5 folds.
  static func werewolf(_ root: String) throws -> Manifest {
    var rows: [ManifestRow] = []
    let all = try lines(root + "/annotations.csv")
    for (i, l) in all.enumerated() where i > 0 {
      let c = l.split(separator: ",").map(String.init)
      guard c.count >= 4, let a = Double(c[1]), let v = Double(c[2]), let d = Double(c[3]) else {
        throw MediaError(root + "/annotations.csv", "line \(i + 1): '\(l)'")
      }
      rows.append(
        ManifestRow(path: "clips/" + c[0], labels: [a, v, d], subject: c.count > 4 ? c[4] : nil))
    }
    for i in rows.indices { rows[i].fold = i % 5 + 1 }
    return Manifest(
      labelNames: ["arousal", "valence", "dominance"],
      rows: try require(rows, root, "annotations.csv"))
  }

  /// AVCAffe: videos/<participant>/<task>.mp4 and labels.csv "participant,task,arousal,valence"
  /// with 5 levels (1..5 -> classes 0..4); split.csv "participant,split" (official).
  static func avcaffe(_ root: String) throws -> Manifest {
    var split: [String: String] = [:]
    if FileManager.default.fileExists(atPath: root + "/split.csv") {
      for l in try lines(root + "/split.csv").dropFirst() {
        let c = l.split(separator: ",")
        if c.count == 2 { split[String(c[0])] = String(c[1]) }
      }
    }
    var rows: [ManifestRow] = []
    for (i, l) in try lines(root + "/labels.csv").enumerated() where i > 0 {
      let c = l.split(separator: ",").map(String.init)
      guard c.count == 4, let a = Int(c[2]), let v = Int(c[3]), (1...5).contains(a),
        (1...5).contains(v)
      else {
        throw MediaError(root + "/labels.csv", "line \(i + 1): '\(l)' (levels must be 1..5)")
      }
      rows.append(
        ManifestRow(
          path: "videos/\(c[0])/\(c[1]).mp4", labels: [Double(a - 1), Double(v - 1)],
          split: split[c[0]], subject: c[0]))
    }
    return Manifest(
      labelNames: ["arousal", "valence"], classNames: ["1", "2", "3", "4", "5"],
      rows: try require(rows, root, "labels.csv"))
  }

  /// ChaLearn First Impressions: {train,val,test}*/ videos and
  /// annotation_{training,validation,test} .pkl (a dict trait -> {video: score}) or .csv
  /// ("video,<five traits>").
  static func firstImpressions(_ root: String) throws -> Manifest {
    let traits = ["openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism"]
    let videos = files(under: root, extensions: ["mp4"])
    let byName = Dictionary(
      videos.map { (($0 as NSString).lastPathComponent, $0) }, uniquingKeysWith: { a, _ in a })
    var rows: [ManifestRow] = []
    for (file, split) in [("training", "train"), ("validation", "val"), ("test", "test")] {
      var scores: [String: [String: Double]] = [:]  // video -> trait -> score
      let pkl = "\(root)/annotation_\(file).pkl", csv = "\(root)/annotation_\(file).csv"
      if FileManager.default.fileExists(atPath: csv) {
        let ls = try lines(csv)
        let head = ls.first?.split(separator: ",").map(String.init) ?? []
        for l in ls.dropFirst() {
          let c = l.split(separator: ",").map(String.init)
          for (i, t) in head.enumerated() where i > 0 && i < c.count {
            scores[c[0], default: [:]][t] = Double(c[i])
          }
        }
      } else if let data = try? SafeFile.read(pkl) {
        let value: PickleValue
        do { value = try RestrictedUnpickler.load(data, source: pkl) } catch let e as PickleError {
          throw MediaError(pkl, e.message)
        }
        guard case .dict(let top) = value else { throw MediaError(pkl, "not a dict of traits") }
        for (k, v) in top.pairs {
          guard let trait = k.string, case .dict(let perVideo) = v else { continue }
          for (video, score) in perVideo.pairs {
            guard let name = video.string else { continue }
            if case .float(let x) = score { scores[name, default: [:]][trait] = x }
          }
        }
      } else {
        continue
      }
      for (video, t) in scores.sorted(by: { $0.key < $1.key }) {
        let labels = traits.map { t[$0] ?? .nan }
        guard labels.allSatisfy({ !$0.isNaN }) else { continue }
        rows.append(ManifestRow(path: byName[video] ?? video, labels: labels, split: split))
      }
    }
    return Manifest(
      labelNames: traits, rows: try require(rows, root, "annotation_training.pkl or .csv"))
  }

  /// VoxCeleb2 (unlabeled pretraining): dev/mp4/<speaker>/<video>/<utterance>.mp4.
  static func voxceleb2(_ root: String) throws -> Manifest {
    let rows = files(under: root, extensions: ["mp4"]).map { f in
      ManifestRow(
        path: f, labels: [],
        subject: f.split(separator: "/").first(where: { $0.hasPrefix("id") }).map(String.init))
    }
    return Manifest(
      labelNames: [], rows: try require(rows, root, "dev/mp4/id00012/21Uxsk56VDQ/00001.mp4"))
  }
}
