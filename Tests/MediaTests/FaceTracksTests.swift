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

  /// A box (x, y, w, h) with a landmark geometry: frontal, or turned to profile (eyes and nose a
  /// quarter of the box to the right, the mouth 0.15: 0.105 from frontal).
  func face(_ x: Double, _ y: Double, _ side: Double, turned: Bool = false) -> [Double] {
    let (dx, dm) = turned ? (0.25, 0.15) : (0, 0)
    let eyesAndNose: [Double] = [0.3 + dx, 0.4, 0.7 + dx, 0.4, 0.5 + dx, 0.6]
    let marks = eyesAndNose + [0.35 + dm, 0.8, 0.65 + dm, 0.8]
    return [x, y, side, side] + marks
  }

  /// A face moving 0.8 of its width between scans (boxes overlap by IoU 0.11) is one track when its
  /// landmarks carry on; without landmarks each scan starts a track.
  @Test func landmarkMotionFollowsAFastFace() {
    let moving: [(frame: Int, faces: [[Double]])] = (0..<6).map { k in
      (k * 8, [face(10 + 32 * Double(k), 50, 40)])
    }
    #expect(FaceTracks.link(moving).map(\.count) == [6])
    let boxesOnly = moving.map { ($0.frame, $0.faces.map { Array($0.prefix(4)) }) }
    #expect(FaceTracks.link(boxesOnly).count == 6)
  }

  /// Where the face in the same place suddenly has another geometry (a cut to another person, or
  /// another pose), the track ends and a new one starts, although the boxes overlap.
  @Test func aLandmarkGeometryJumpStartsANewTrack() {
    let scans: [(frame: Int, faces: [[Double]])] = (0..<6).map { k in
      (k * 8, [face(50, 50, 40, turned: k >= 3)])
    }
    #expect(FaceTracks.link(scans).map(\.count) == [3, 3])
    #expect(
      FaceTracks.shapeDistance(
        Array(scans[0].faces[0].dropFirst(4)), Array(scans[5].faces[0].dropFirst(4)))
        > FaceTracks.geometryJump)
  }

  /// A clip's report names a cut where the detected face's landmark geometry jumps between two
  /// sampled frames, though the box stays put.
  @Test func aClipReportsALandmarkJumpAsACut() {
    func detected(_ turned: Bool) -> HaarCascade.Face {
      let f = face(50, 50, 40, turned: turned)
      let marks: [[Double]] = stride(from: 4, to: 14, by: 2).map { (i: Int) -> [Double] in
        let x: Double = 50 + f[i] * 40
        let y: Double = 50 + f[i + 1] * 40
        return [x, y]
      }
      return HaarCascade.Face(x: 50, y: 50, width: 40, height: 40, neighbors: 0, landmarks: marks)
    }
    let grey = [UInt8](repeating: 128, count: 160 * 120 * 3)
    let faces = [false, false, false, true, true, true].map { detected($0) }
    let report = FaceCropReport.make(
      frames: Array(0..<6), rgb: Array(repeating: grey, count: 6), width: 160, height: 120,
      detected: faces, boxes: Array(repeating: [40, 40, 60, 60], count: 6))
    #expect(report.cuts == [FaceCropReport.Cut(before: 2, after: 3)])
    let steady = FaceCropReport.make(
      frames: Array(0..<6), rgb: Array(repeating: grey, count: 6), width: 160, height: 120,
      detected: Array(repeating: detected(false), count: 6),
      boxes: Array(repeating: [40, 40, 60, 60], count: 6))
    #expect(steady.cuts.isEmpty)
  }
}
