import Foundation
import SafeFiles

/// Face tracks on disk, one JSON file per (video content, detection settings): a face crop computes
/// a video's track once, and every later clip of it — this session or the next — reads its boxes.
/// A file that is truncated, from another version, or whose recorded content hash or settings do
/// not match is rebuilt, never used; a folder that cannot be written means no cache, said once.
public final class FaceTrackCache: @unchecked Sendable {  // mutable state is guarded by `lock`
  /// The format of the files (a new version invalidates older files).
  public static let version = 6
  /// Every how many frames the detector runs for a track.
  public static let every = 8
  /// The process-wide cache: `$SVFAP_CACHE_DIR/face-tracks`, else `$XDG_CACHE_HOME/svfap/…`, else
  /// `~/.cache/svfap/face-tracks`.
  public static let shared = FaceTrackCache(folder: defaultFolder)

  /// The default folder.
  public static var defaultFolder: String {
    let env = ProcessInfo.processInfo.environment
    if let dir = env["SVFAP_CACHE_DIR"], !dir.isEmpty { return dir + "/face-tracks" }
    if let dir = env["XDG_CACHE_HOME"], !dir.isEmpty { return dir + "/svfap/face-tracks" }
    return (env["HOME"] ?? NSTemporaryDirectory()) + "/.cache/svfap/face-tracks"
  }

  /// Where the files go.
  public let folder: String
  /// Where the one warning goes (standard error by default).
  public var warn: (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
  private let lock = NSLock()
  private var warned = false, unwritable = false
  /// Tracks already read this process, by (path, size, modification time).
  private var memory: [String: FaceTrack] = [:]

  /// A cache in `folder` (created when first written).
  public init(folder: String) { self.folder = folder }

  /// What a file records besides the track, checked before it is used.
  struct Entry: Codable {
    let version: Int
    let contentHash: String
    let settings: String
    let track: FaceTrack
  }

  /// The track of `reader`'s video: from memory, from its file, or computed (and stored).
  public func track(
    for reader: VideoReader, detector: any FaceFinder, choice: FaceChoice = .largest
  ) throws -> FaceTrack {
    let path = reader.info.path
    let attributes = try? FileManager.default.attributesOfItem(atPath: path)
    let stamp =
      "\(detector.name)|\(choice)|\(path)|\((attributes?[.size] as? NSNumber)?.intValue ?? -1)|"
      + "\((attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)"
    if let known = locked({ memory[stamp] }) { return known }
    let (w, h) = reader.trackSize
    let settings =
      "\(detector.name) \(w)x\(h) every \(Self.every) min 1/6 of the short side, face \(choice)"
    let hash = try Self.contentHash(path)
    let file = "\(folder)/\(hash)-\(Self.fnv(Array(settings.utf8))).json"
    if let data = try? SafeFile.read(file),
      let entry = try? JSONDecoder().decode(Entry.self, from: data),
      entry.version == Self.version, entry.contentHash == hash, entry.settings == settings,
      entry.track.frameCount == max(reader.info.frameCount, 1), entry.track.width == w,
      entry.track.height == h, entry.track.isWellFormed
    {
      locked { memory[stamp] = entry.track }
      return entry.track
    }
    let track = try reader.faceTrack(detector: detector, every: Self.every, choice: choice)
    store(
      Entry(version: Self.version, contentHash: hash, settings: settings, track: track), to: file)
    locked { memory[stamp] = track }
    return track
  }

  /// Writes an entry atomically (temporary file + rename); a folder that cannot be written turns
  /// the cache off with one warning.
  private func store(_ entry: Entry, to file: String) {
    guard !locked({ unwritable }) else { return }
    do {
      try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
      let data = try JSONEncoder().encode(entry)
      let temporary = file + ".tmp-\(getpid())-\(UUID().uuidString)"
      guard FileManager.default.createFile(atPath: temporary, contents: data) else {
        throw CocoaError(.fileWriteNoPermission)
      }
      guard rename(temporary, file) == 0 else {
        try? FileManager.default.removeItem(atPath: temporary)
        throw CocoaError(.fileWriteNoPermission)
      }
    } catch {
      let first = locked { () -> Bool in
        defer { (warned, unwritable) = (true, true) }
        return !warned
      }
      if first {
        warn(
          """
          warning: the face-track cache folder \(folder) cannot be written (\(error.localizedDescription)); \
          face crops go on without a cache (set SVFAP_CACHE_DIR to another folder)
          """)
      }
    }
  }

  private func locked<R>(_ body: () -> R) -> R {
    lock.lock()
    defer { lock.unlock() }
    return body()
  }

  /// A 64-bit FNV-1a hash of a file's bytes (with its length), as hex.
  static func contentHash(_ path: String) throws -> String {
    guard let handle = FileHandle(forReadingAtPath: path) else {
      throw MediaError(path, "cannot read the file to key its face track")
    }
    defer { try? handle.close() }
    var hash = FNV1a(), length = 0
    while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
      hash.add(chunk)
      length += chunk.count
    }
    return hash.hex + "-" + String(length, radix: 16)
  }

  /// A 64-bit FNV-1a hash of some bytes, as hex.
  static func fnv(_ bytes: [UInt8]) -> String {
    var hash = FNV1a()
    hash.add(bytes)
    return hash.hex
  }
}

/// The 64-bit FNV-1a hash, fed in pieces.
struct FNV1a {
  private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325
  /// Mixes in some bytes.
  mutating func add<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
    for byte in bytes { value = (value ^ UInt64(byte)) &* 0x100_0000_01b3 }
  }
  /// The hash as 16 hex digits.
  var hex: String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: 16 - digits.count) + digits
  }
}
