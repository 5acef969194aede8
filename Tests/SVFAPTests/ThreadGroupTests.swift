import Foundation
import Testing

@testable import SVFAP

/// The in-process collective: sums, maxima, broadcasts and gathers agree on every member, and a
/// member that leaves early releases the others with an error instead of a hang.
@Suite struct ThreadGroupTests {
  @Test func membersAgreeOnEveryCollective() throws {
    let results = ThreadGroup.run(size: 3) { member -> [Double] in
      var values = (0..<1000).map { Double($0) * Double(member.rank + 1) + 0.1 }
      try values.withUnsafeMutableBufferPointer { try member.sum($0) }
      let top = try member.maximum([Double(member.rank), -1])
      let text = try member.broadcast(Array("rank \(member.rank)".utf8), from: 2)
      let all = try member.gather(Array(repeating: UInt8(member.rank), count: member.rank + 1))
      #expect(String(decoding: text, as: UTF8.self) == "rank 2")
      #expect(all == [[0], [1, 1], [2, 2, 2]])
      return values + top
    }
    let got = try results.map { try $0.get() }
    #expect(got[0] == got[1] && got[1] == got[2], "members hold different sums")
    #expect(abs(got[0][10] - (10.0 * 6 + 0.3)) < 1e-12)
    #expect(got[0].suffix(2) == [2, -1])
  }

  @Test func aMemberThatLeavesReleasesTheOthers() {
    let start = Date()
    let results = ThreadGroup.run(size: 2) { member -> Int in
      if member.rank == 1 { throw SVFAPError.badConfig("member 1 fails before the sum") }
      var x = [1.0]
      try x.withUnsafeMutableBufferPointer { try member.sum($0) }
      return 0
    }
    #expect(Date().timeIntervalSince(start) < 10)
    for r in results {
      #expect(throws: (any Error).self) { try r.get() }
    }
  }
}
