import Glibc

/// Monotonic seconds (timing of training steps and benchmarks).
public func monotonicSeconds() -> Double {
  var ts = timespec()
  clock_gettime(CLOCK_MONOTONIC, &ts)
  return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// Median seconds of `body` over `runs` runs after one warm-up run.
public func medianSeconds(runs: Int, _ body: () throws -> Void) rethrows -> Double {
  try body()
  var times: [Double] = []
  for _ in 0..<max(runs, 1) {
    let t0 = monotonicSeconds()
    try body()
    times.append(monotonicSeconds() - t0)
  }
  times.sort()
  return times[times.count / 2]
}
