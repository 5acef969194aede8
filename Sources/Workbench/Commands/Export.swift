import Foundation
import Script

/// `export`: any value's numbers into a file Python reads.
struct Export: SessionCommand {
  unowned let session: Session
  let declaration = CommandDeclaration(
    "export", topic: "train",
    summary:
      """
      Write a value's numbers for Python: clips, reconstructions (reconstruct's record), \
      predictions, evaluation results (per-video predicted/actual), dataset() records, lists, or \
      a model's training log, as .safetensors (every array; strings in the metadata), .npy (one \
      array) or .csv (columns; single values as # comment lines: pandas.read_csv(f, \
      comment="#")), written atomically.
      """,
    params: [
      .positional("value", .any, "what to write"),
      .positional("path", .string, "a .safetensors, .npy or .csv file"),
    ],
    returns: "record {path, arrays (their names), skipped (parts that are not data)}",
    example: "export evaluate(f, \"synth/traits.csv\", split: \"test\") \"traits.csv\"",
    rootOnly: true)

  func run(_ a: Arguments, in interp: Interpreter) throws -> Value {
    let path = session.resolve(try a.string("path"))
    let arrays = try a.located { try ExportArrays(a["value"], name: "value") }
    do { try ExportFiles.write(arrays, to: path) } catch let e as ExportError {
      throw a.error(e.description, io: true)
    }
    let shapes = arrays.columns.map { "\($0.name) \($0.column.shape)" }
    interp.output(
      "exported \(arrays.columns.count) array(s) to \(path): \(shapes.prefix(8).joined(separator: ", "))"
        + (arrays.skipped.isEmpty ? "" : "; left out \(arrays.skipped.joined(separator: ", "))"))
    return .record(
      Record([
        ("path", .string(path)), ("arrays", .list(arrays.columns.map { .string($0.name) })),
        ("skipped", .list(arrays.skipped.map { .string($0) })),
      ]))
  }
}
