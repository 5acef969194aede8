import Foundation

/// Starts a program with posix_spawn (Foundation's Process can wait forever when a child such as a
/// tmux server inherits its bookkeeping descriptors): stdin from /dev/null, stdout to `stdout`,
/// stderr to the same file or to /dev/null, default signal handling and an empty mask whatever the
/// test runner set.
func spawnProcess(_ program: String, _ args: [String], stdout: String, keepStderr: Bool = false)
  throws -> pid_t
{
  var actions = posix_spawn_file_actions_t()
  posix_spawn_file_actions_init(&actions)
  defer { posix_spawn_file_actions_destroy(&actions) }
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
  posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
  if keepStderr {
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
  } else {
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
  }
  var cargs = ([program] + args).map { strdup($0) } + [nil]
  defer { for p in cargs { free(p) } }
  var attr = posix_spawnattr_t()
  posix_spawnattr_init(&attr)
  defer { posix_spawnattr_destroy(&attr) }
  var none = sigset_t(), all = sigset_t()
  sigemptyset(&none)
  sigfillset(&all)
  posix_spawnattr_setsigmask(&attr, &none)
  posix_spawnattr_setsigdefault(&attr, &all)
  posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
  var pid = pid_t()
  guard posix_spawnp(&pid, program, &actions, &attr, &cargs, environ) == 0 else {
    throw POSIXError(.ENOENT)
  }
  return pid
}
