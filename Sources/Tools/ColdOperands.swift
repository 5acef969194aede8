/// Places the operands of a replayed step's GEMM calls one after another in an arena twice the
/// size of the last-level cache, wrapping to its start, so that every call reads and writes memory
/// no recent call touched: the products as a step runs them when its weights and activations do
/// not stay in cache (svfap-base's weights alone are ~250 MB).
struct ColdOperands {
  /// Floats in the arena.
  let floats: Int
  /// Where the next operand starts (floats).
  private var next = 0

  /// An arena for calls whose largest A, B and C hold `largest` floats together: at least twice
  /// `cacheBytes` (the last-level cache, taken as at most 512 MiB: the arena stays within 1 GiB
  /// whatever sysfs says) and twice `largest` (operands the step itself already holds).
  init(largest: Int, cacheBytes: Int = ColdOperands.lastLevelCacheBytes()) {
    floats = max(2 * min(cacheBytes, 512 << 20) / 4, 2 * largest, 1)
  }

  /// Offsets (floats) of one call's A, B and C of `a`, `b` and `c` floats: right after the
  /// previous call's, or from the arena's start when they would run past its end.
  mutating func place(a: Int, b: Int, c: Int) -> (a: Int, b: Int, c: Int) {
    if next + a + b + c > floats { next = 0 }
    let placed = (a: next, b: next + a, c: next + a + b)
    next += a + b + c
    return placed
  }

  /// Bytes of the largest cache level sysfs lists for CPU 0, or 32 MiB when it lists none.
  static func lastLevelCacheBytes() -> Int {
    var best = (level: 0, bytes: 32 << 20)
    for index in 0..<8 {
      let dir = "/sys/devices/system/cpu/cpu0/cache/index\(index)/"
      guard let level = firstLine(ofFile: dir + "level").flatMap({ Int($0) }),
        let size = firstLine(ofFile: dir + "size"), let bytes = parseSize(size), level > best.level
      else { continue }
      best = (level, bytes)
    }
    return best.bytes
  }

  /// "107520K" or "2M" or "512" in bytes; nil for anything else (or absurd sizes).
  static func parseSize(_ text: String) -> Int? {
    let unit: Int
    var digits = Substring(text)
    switch text.last {
    case "K": (unit, digits) = (1 << 10, digits.dropLast())
    case "M": (unit, digits) = (1 << 20, digits.dropLast())
    case "G": (unit, digits) = (1 << 30, digits.dropLast())
    default: unit = 1
    }
    guard let n = Int(digits), n > 0, n <= (1 << 40) / unit else { return nil }
    return n * unit
  }
}
