import Glibc
import Synchronization

/// Ctrl-C: the SIGINT handler sets a flag; the interpreter and long-running commands poll it at
/// safe points (statement boundaries, loop iterations, training steps) and stop there.
public enum Interrupt {
  static let flag = Atomic<Bool>(false)

  /// Marks an interrupt request (async-signal-safe).
  public static func request() { flag.store(true, ordering: .relaxed) }
  /// Whether an interrupt is pending.
  public static var pending: Bool { flag.load(ordering: .relaxed) }
  /// Forgets a pending interrupt.
  public static func clear() { flag.store(false, ordering: .relaxed) }

  /// Throws `.interrupted` (and clears the flag) when Ctrl-C was pressed.
  public static func check(at location: SourceLocation? = nil) throws {
    if flag.exchange(false, ordering: .relaxed) {
      throw ScriptError(.interrupted, "interrupted", at: location)
    }
  }

  /// Installs the SIGINT handler that sets the flag.
  public static func installHandler() {
    signal(SIGINT) { _ in Interrupt.request() }
    unblock()
  }

  /// Unblocks SIGINT (a parent may have started us with it blocked).
  public static func unblock() {
    var set = sigset_t()
    sigemptyset(&set)
    sigaddset(&set, SIGINT)
    sigprocmask(SIG_UNBLOCK, &set, nil)
  }
}
