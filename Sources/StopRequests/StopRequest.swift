import Synchronization

/// Ctrl-C (or the kernel's interrupt) as one process-wide flag that every layer can poll: the
/// language's statement boundaries (`Script.Interrupt`), training steps, and the pixel loops of
/// video work (detection, cropping, resizing, augmentation), which throw `Stopped` within a frame
/// or a band of rows.
public enum StopRequest {
  static let flag = Atomic<Bool>(false)

  /// Marks a stop request (async-signal-safe).
  public static func request() { flag.store(true, ordering: .relaxed) }
  /// Whether a stop is pending.
  public static var pending: Bool { flag.load(ordering: .relaxed) }
  /// Forgets a pending stop.
  public static func clear() { flag.store(false, ordering: .relaxed) }
  /// Takes a pending stop (true once per request).
  public static func take() -> Bool { flag.exchange(false, ordering: .relaxed) }

  /// What a pixel loop throws when a stop is pending (the flag stays set for the caller to take).
  public struct Stopped: Error, CustomStringConvertible, Sendable {
    /// The work that stopped ("face detection", "resizing").
    public let work: String
    /// A stop of `work`.
    public init(_ work: String) { self.work = work }
    /// "interrupted during WORK".
    public var description: String { "interrupted during \(work)" }
  }

  /// Throws `Stopped(work)` when a stop is pending.
  @inline(__always) public static func check(_ work: String) throws(Stopped) {
    if flag.load(ordering: .relaxed) { throw Stopped(work) }
  }
}
