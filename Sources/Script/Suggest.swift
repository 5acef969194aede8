/// Edit distance (Levenshtein) between two strings.
func editDistance(_ a: String, _ b: String) -> Int {
  let a = Array(a), b = Array(b)
  if a.isEmpty { return b.count }
  if b.isEmpty { return a.count }
  var prev = Array(0...b.count)
  for i in 1...a.count {
    var cur = [i] + [Int](repeating: 0, count: b.count)
    for j in 1...b.count {
      cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
    }
    prev = cur
  }
  return prev[b.count]
}

/// " (did you mean 'x'?)" for the nearest candidates, or "".
public func suggestion(for name: String, among candidates: [String]) -> String {
  let limit = max(2, name.count / 3)
  var scored: [(name: String, distance: Int)] = []
  for c in Set(candidates) {
    let d = editDistance(name.lowercased(), c.lowercased())
    if d <= limit || c.hasPrefix(name) { scored.append((c, d)) }
  }
  scored.sort { a, b in a.distance != b.distance ? a.distance < b.distance : a.name < b.name }
  guard !scored.isEmpty else { return "" }
  let names = scored.prefix(3).map { "'\($0.name)'" }
  return " (did you mean \(names.joined(separator: " or "))?)"
}
