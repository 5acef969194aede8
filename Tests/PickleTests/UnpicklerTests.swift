import Foundation
import TestSupport
import Testing

@testable import Pickle

/// The restricted unpickler on hostile structures: nesting, cycles, lengths past the end.
@Suite struct UnpicklerTests {
  @Test func hostilePickleStructuresAreRefused() throws {
    // 10^6 nested tuples (TUPLE1 repeated): refused at the nesting bound, never a stack overflow.
    let deep = Data([0x80, 0x02, 0x4E] + [UInt8](repeating: 0x85, count: 1_000_000) + [0x2E])
    #expect { try RestrictedUnpickler.load(deep) } throws: {
      "\($0)".contains("nested more than 64")
    }
    // A list that contains itself: EMPTY_LIST, BINPUT 0, BINGET 0, APPEND, STOP.
    let selfRef = Data([0x80, 0x02, 0x5D, 0x71, 0x00, 0x68, 0x00, 0x61, 0x2E])
    #expect { try RestrictedUnpickler.load(selfRef) } throws: {
      "\($0)".contains("contains itself")
    }
    // BINUNICODE8 of length 2^63 − 1: truncated, not an overflow.
    let long = Data(
      [0x80, 0x04, 0x8D] + [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F] + [0x2E])
    #expect { try RestrictedUnpickler.load(long) } throws: { "\($0)".contains("truncated") }
  }
}

/// The unpickler never traps: mutated real pickles and random bytes are errors or values, never
/// crashes.
@Suite(
  .tags(.python),
  .enabled(if: installed("python3"), "python3 is not installed (scripts/setup installs it)"))
struct PickleRobustnessTests {
  @Test func mutatedPicklesNeverCrash() throws {
    let archive = fixturesDir.appendingPathComponent("pretrain_paper.pth").path
    let bytes = [UInt8](try pickleBytes(inArchive: archive))
    #expect((try? RestrictedUnpickler.load(Data(bytes))) != nil)
    var state: UInt64 = 7
    func rand() -> Int {
      state = state &* 6364136223846793005 &+ 1
      return Int(state >> 33)
    }
    for _ in 0..<4000 {
      var b = bytes
      for _ in 0..<(1 + rand() % 4) { b[rand() % b.count] = UInt8(rand() % 256) }
      if rand() % 3 == 0 { b = Array(b.prefix(rand() % b.count)) }
      _ = try? RestrictedUnpickler.load(Data(b))
    }
    for _ in 0..<2000 {
      _ = try? RestrictedUnpickler.load(Data((0..<(rand() % 64)).map { _ in UInt8(rand() % 256) }))
    }
  }
}
