import Datasets
import Foundation

/// The rows of a manifest a command works on: a split, or the folds of a k-fold protocol, with the
/// folder their paths are relative to.
public struct DatasetSelection: Sendable {
  /// The whole manifest (label and class names).
  public let manifest: Manifest
  /// The chosen rows.
  public let rows: [ManifestRow]
  /// The folder relative paths resolve against.
  public let root: String
  /// Whether a named split was asked of a manifest without a split column and every row was
  /// taken (`MissingSplit.allRows`): the caller says so.
  public private(set) var tookAllRows = false

  /// What a named split means in a manifest without a split column.
  public enum MissingSplit: Sendable {
    /// An error naming the ways out (evaluating every row would score the training rows).
    case refuse
    /// Every row (training on all rows), with `tookAllRows` set.
    case allRows
  }

  /// Whether the manifest holds classes (named classes, or one "label" column) rather than targets.
  public var isClassification: Bool {
    !manifest.classNames.isEmpty || manifest.labelNames == ["label"]
  }

  /// The manifest of the chosen rows only (same label and class names).
  public var chosen: Manifest {
    Manifest(labelNames: manifest.labelNames, classNames: manifest.classNames, rows: rows)
  }

  /// The chosen rows without labels (pretraining streams videos only).
  public var unlabeled: Manifest {
    Manifest(labelNames: [], rows: rows.map { ManifestRow(path: $0.path, labels: []) })
  }

  /// Reads the manifest at `path` (absolute) and picks rows: those of `split` ("" = all; rows
  /// without a split always count), or with `fold`, the rows of that fold (`foldIsTest`) or of
  /// every other fold. With `allowVideo`, a path that is not a .csv/.txt manifest is one video (a
  /// manifest of one row).
  public init(
    path: String, root: String?, split: String, fold: Int? = nil, foldIsTest: Bool = false,
    allowVideo: Bool = false, missingSplit: MissingSplit = .refuse
  ) throws {
    if allowVideo && !["csv", "txt"].contains((path as NSString).pathExtension.lowercased()) {
      manifest = Manifest(labelNames: [], rows: [ManifestRow(path: path, labels: [])])
    } else {
      do { manifest = try Manifest.read(path).manifest } catch {
        throw ExperimentError("\(error)", io: true)
      }
    }
    self.root = root ?? (path as NSString).deletingLastPathComponent
    if let k = fold {
      rows = manifest.rows.filter { ($0.fold == k) == foldIsTest }
    } else if !split.isEmpty, !manifest.rows.contains(where: { $0.split != nil }),
      !allowVideo || manifest.rows.count > 1
    {
      guard missingSplit == .allRows else {
        let folds = manifest.rows.contains { $0.fold != nil }
        throw ExperimentError(
          """
          split: "\(split)" names rows of a split, but \((path as NSString).lastPathComponent) has \
          no split column: every row would count, the training rows too. Pass split: "" to use \
          all rows knowingly, \(folds ? "fold: K (it has a fold column)" : "fold: K with a fold column"), \
          or make a held-out split (svfap synth --test-identities N)
          """)
      }
      rows = manifest.rows
      tookAllRows = true
    } else {
      rows = manifest.rows.filter { split.isEmpty || $0.split == nil || $0.split == split }
    }
    guard !rows.isEmpty else { throw ExperimentError("no rows of split '\(split)' in \(path)") }
  }

  /// The absolute path of a row's video.
  public func videoPath(_ row: ManifestRow) -> String {
    row.path.hasPrefix("/") ? row.path : root + "/" + row.path
  }
}
