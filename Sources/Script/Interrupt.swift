import Glibc
import StopRequests

/// Ctrl-C: the SIGINT handler sets a flag; the interpreter and long-running commands poll it at
/// safe points (statement boundaries, loop iterations, training steps) and stop there.
/// The flag itself is `StopRequest`'s, which the layers below the language poll too.
public enum Interrupt {
  /// Marks an interrupt request (async-signal-safe).
  public static func request() { StopRequest.request() }
  /// Whether an interrupt is pending.
  public static var pending: Bool { StopRequest.pending }
  /// Forgets a pending interrupt.
  public static func clear() { StopRequest.clear() }

  /// Throws `.interrupted` (and clears the flag) when Ctrl-C was pressed.
  public static func check(at location: SourceLocation? = nil) throws {
    if StopRequest.take() {
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
