import Foundation
import Testing

@testable import Media

/// Detections linked into one track per person, and the choice among them.
@Suite struct FaceTracksTests {
  /// Two faces drifting right: a large one on the left (seen on every scan) and a small central
  /// one (seen on most), plus a one-scan false detection.
  func scans() -> [(frame: Int, faces: [[Double]])] {
    (0..<10).map { k in
      var faces: [[Double]] = [[10 + Double(k), 20, 60, 60]]
      if k % 5 != 4 { faces.append([140 + Double(k), 70, 30, 30]) }
      if k == 3 { faces.append([250, 10, 20, 20]) }
      return (k * 8, faces.shuffled())
    }
  }

  @Test func linkingAndChoosing() throws {
    let tracks = FaceTracks.link(scans())
    #expect(tracks.count == 3)
    let counts = tracks.map(\.count).sorted()
    #expect(counts == [1, 8, 10])
    let (largest, faces) = FaceTracks.choose(tracks, choice: .largest, width: 320, height: 180)
    #expect(faces == 2, "the one-scan detection is not a face that was tracked")
    #expect(largest?.first?.box[2] == 60 && largest?.count == 10)
    let (center, _) = FaceTracks.choose(tracks, choice: .center, width: 320, height: 180)
    #expect(center?.first?.box[2] == 30)
    let (second, _) = FaceTracks.choose(tracks, choice: .index(1), width: 320, height: 180)
    #expect(second?.first?.box[2] == 30)
    let (none, _) = FaceTracks.choose(tracks, choice: .index(2), width: 320, height: 180)
    #expect(none == nil)
    #expect(FaceTracks.choose([], choice: .largest, width: 1, height: 1).faces == 0)
  }

  @Test func aFaceLostForFourScansStartsANewTrack() {
    let scans: [(frame: Int, faces: [[Double]])] = (0..<10).map { k in
      (k, (3...6).contains(k) ? [] : [[10, 10, 40, 40]])
    }
    #expect(FaceTracks.link(scans).map(\.count) == [3, 3])
  }
}
