import Foundation

/// The golden fixtures in the repository (Tests/Fixtures).
let fixturesDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
  .deletingLastPathComponent()
  .appendingPathComponent("Fixtures")

/// The pickle stream inside a torch `.pth` zip archive, read with Python's zipfile.
func pickleBytes(inArchive path: String) throws -> Data {
  let p = Process()
  p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
  p.arguments = [
    "python3", "-c",
    """
    import sys, zipfile
    z = zipfile.ZipFile(sys.argv[1])
    n = [x for x in z.namelist() if x.endswith("data.pkl")][0]
    sys.stdout.buffer.write(z.read(n))
    """, path,
  ]
  let out = Pipe()
  p.standardOutput = out
  try p.run()
  let data = out.fileHandleForReading.readDataToEndOfFile()
  p.waitUntilExit()
  guard p.terminationStatus == 0 else { throw CocoaError(.fileReadCorruptFile) }
  return data
}
