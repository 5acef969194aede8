import Foundation
import Media
import SafeFiles

/// One sample of a dataset: a video file or frame folder, its label(s), and where it belongs.
public struct ManifestRow: Sendable, Equatable {
  /// Video file or frame folder (relative paths resolve against the manifest's folder).
  public var path: String
  /// Class index (as a number) or regression targets.
  public var labels: [Double]
  /// "train", "test", "val" or nil.
  public var split: String?
  /// Fold number for k-fold protocols (the fold whose test set holds the row), or nil.
  public var fold: Int?
  /// Subject (actor, participant), for subject-independent splits.
  public var subject: String?

  /// A row.
  public init(
    path: String, labels: [Double], split: String? = nil, fold: Int? = nil, subject: String? = nil
  ) {
    self.path = path
    self.labels = labels
    self.split = split
    self.fold = fold
    self.subject = subject
  }
}

/// A dataset's list of samples, read from and written to CSV: a header `path,<label names>` plus
/// optional `split`, `fold` and `subject` columns; the authors' split files ("path label" per line,
/// space- or comma-separated, no header) read as well.
public struct Manifest: Sendable, Equatable {
  /// Label column names (`label` for classes; `valence`, `arousal`, … for targets).
  public var labelNames: [String]
  /// Class names when labels are classes (index order), else empty.
  public var classNames: [String]
  /// The rows.
  public var rows: [ManifestRow]

  /// A manifest.
  public init(labelNames: [String], classNames: [String] = [], rows: [ManifestRow]) {
    self.labelNames = labelNames
    self.classNames = classNames
    self.rows = rows
  }

  /// CSV text.
  public var csv: String {
    let hasSplit = rows.contains { $0.split != nil }, hasFold = rows.contains { $0.fold != nil },
      hasSubject = rows.contains { $0.subject != nil }
    var header = ["path"] + labelNames
    if hasSplit { header.append("split") }
    if hasFold { header.append("fold") }
    if hasSubject { header.append("subject") }
    var out = header.joined(separator: ",") + "\n"
    for r in rows {
      var cells =
        [r.path.contains(",") ? "\"\(r.path)\"" : r.path]
        + r.labels.map { $0 == $0.rounded() && abs($0) < 1e9 ? String(Int($0)) : String($0) }
      if hasSplit { cells.append(r.split ?? "") }
      if hasFold { cells.append(r.fold.map(String.init) ?? "") }
      if hasSubject { cells.append(r.subject ?? "") }
      out += cells.joined(separator: ",") + "\n"
    }
    if !classNames.isEmpty { out = "# classes: " + classNames.joined(separator: ",") + "\n" + out }
    return out
  }

  /// Writes the CSV atomically (`SafeFile.writeAtomically`).
  public func write(to path: String) throws {
    try SafeFile.writeAtomically(Data(csv.utf8), to: path)
  }

  /// Reads a manifest CSV (or an authors' "path label" file). A malformed row is an error naming
  /// the file and line, unless `skipBad` (then it is left out and listed in `skipped`).
  public static func read(_ path: String, skipBad: Bool = false) throws -> (
    manifest: Manifest, skipped: [String]
  ) {
    let text: String
    do { text = try SafeFile.readText(path) } catch {
      throw MediaError(path, "cannot read the manifest: \(error.reason)")
    }
    var lines = text.split(whereSeparator: \.isNewline).map(String.init)
    var classNames: [String] = []
    if let first = lines.first, first.hasPrefix("# classes: ") {
      classNames = first.dropFirst(11).split(separator: ",").map(String.init)
      lines.removeFirst()
    }
    lines = lines.filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty && !$0.hasPrefix("#") }
    guard let first = lines.first else { return (Manifest(labelNames: [], rows: []), []) }
    func cells(_ l: String) -> [String] {
      guard l.contains(",") else { return l.split(separator: " ").map(String.init) }
      // CSV with double-quoted cells that may hold commas.
      var out: [String] = [], cur = "", quoted = false
      for ch in l {
        if ch == "\"" {
          quoted.toggle()
        } else if ch == "," && !quoted {
          out.append(cur.trimmingCharacters(in: .whitespaces))
          cur = ""
        } else {
          cur.append(ch)
        }
      }
      out.append(cur.trimmingCharacters(in: .whitespaces))
      return out
    }
    let head = cells(first)
    let hasHeader = head.first?.lowercased() == "path"
    let columns =
      hasHeader ? head : ["path"] + (1..<head.count).map { $0 == 1 ? "label" : "label\($0)" }
    let labelCols = columns.indices.filter {
      $0 > 0 && !["split", "fold", "subject", "identity"].contains(columns[$0])
    }
    var rows: [ManifestRow] = [], skipped: [String] = []
    for (n, line) in lines.enumerated() where !(hasHeader && n == 0) {
      let c = cells(line)
      do {
        guard c.count == columns.count else {
          throw MediaError(
            path,
            """
            line \(n + 1): \(c.count) columns, expected \(columns.count) \
            (\(columns.joined(separator: ",")))
            """
          )
        }
        let labels = try labelCols.map { i -> Double in
          guard let v = Double(c[i]), v.isFinite else {
            throw MediaError(
              path, "line \(n + 1): '\(c[i])' in column \(columns[i]) is not a finite number")
          }
          return v
        }
        var row = ManifestRow(path: c[0], labels: labels)
        if let i = columns.firstIndex(of: "split"), !c[i].isEmpty { row.split = c[i] }
        if let i = columns.firstIndex(of: "fold"), !c[i].isEmpty { row.fold = Int(c[i]) }
        if let i = columns.firstIndex(of: "subject") ?? columns.firstIndex(of: "identity"),
          !c[i].isEmpty
        {
          row.subject = c[i]
        }
        rows.append(row)
      } catch let e as MediaError {
        if !skipBad { throw e }
        skipped.append(e.message)
      }
    }
    return (
      Manifest(labelNames: labelCols.map { columns[$0] }, classNames: classNames, rows: rows),
      skipped
    )
  }

  /// Checks that class labels are integers in range before training starts.
  public func validateClasses(_ count: Int, path: String) throws {
    for (i, r) in rows.enumerated() {
      guard let l = r.labels.first, l == l.rounded(), l >= 0, l < Double(count) else {
        throw MediaError(
          path,
          """
          row \(i + 1) (\(r.path)): label \(r.labels.first.map { String($0) } ?? "none") is \
          outside 0..<\(count)
          """
        )
      }
    }
  }
}
