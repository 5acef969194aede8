import CCPU
import Glibc

/// How much stack the current thread has left: the parser and the interpreter ask before each level
/// of nesting, so that input of any shape (deep expressions, long chains, recursion whose body is
/// deep, nested `source`) ends in a located "too deeply nested" error, never a stack overflow,
/// whatever thread runs it (the main thread's 8 MiB, a pool thread's 512 KiB).
struct StackGuard {
  /// Below this address the thread's stack is too close to its end to go deeper.
  let floor: UInt
  /// The stack's range (an address outside it says nothing about this stack).
  let stack: ClosedRange<UInt>

  /// The guard for the calling thread: its stack's low end plus a reserve for the commands that a
  /// level may run (a quarter of the stack, at most 1 MiB).
  init() {
    var attr = pthread_attr_t()
    var address: UnsafeMutableRawPointer?
    var size = 0
    if threadAttributes(pthread_self(), &attr) == 0 {
      pthread_attr_getstack(&attr, &address, &size)
      pthread_attr_destroy(&attr)
    }
    let low = UInt(bitPattern: address)
    floor = low == 0 ? 0 : low + UInt(min(1 << 20, size / 4))
    stack = low...(low + UInt(max(size, 0)))
  }

  /// Whether the calling thread's stack is below the floor (on the guard's own thread). Measured
  /// at the frame address, which stays on the real stack under AddressSanitizer (a local's address
  /// may lie on its heap-allocated fake stack).
  @inline(never) func exhausted() -> Bool {
    let here = UInt(svfap_frame_address())
    return stack.contains(here) && here < floor
  }
}

/// glibc's `pthread_getattr_np` (a GNU extension the Glibc module does not export): the attributes,
/// stack included, of a running thread.
@_silgen_name("pthread_getattr_np")
private func threadAttributes(_ thread: pthread_t, _ attr: UnsafeMutablePointer<pthread_attr_t>)
  -> Int32
