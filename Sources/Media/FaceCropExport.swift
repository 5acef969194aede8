import Foundation

/// A whole video face-cropped into a new, small video (the authors crop their datasets' faces once
/// before training): every frame cropped around the video's `FaceTrack` box — centres smoothed over
/// ±8 frames, the side the median of ±16 frames' sides times the margin — and resized to size ×
/// size. Clips of the result need no detection and decode several times faster than the source.
extension VideoReader {
  /// Frames decoded per request while exporting.
  static let exportChunk = 64

  /// Writes the face-cropped video to `path` (H.264, `size` × `size`, the source's frame rate);
  /// the number of frames written. A video whose track found no face is an error naming it.
  @discardableResult
  public func writeFaceCrops(
    track: FaceTrack, to path: String, size: Int = 160, margin: Double = 1.3
  ) throws -> Int {
    guard track.hasFace, track.boxes.count == track.frameCount, track.width > 0, track.height > 0
    else {
      throw MediaError(info.path, "no face on any scanned frame: nothing to crop")
    }
    let (w, h) = detectionSize
    let (sx, sy) = (Double(w) / Double(track.width), Double(h) / Double(track.height))
    let boxes = track.boxes.map { [$0[0] * sx, $0[1] * sy, $0[2] * sx, $0[3] * sy] }
    let count = track.frameCount
    let fps = Int(min(max(info.fps.rounded(), 1), 240))
    let writer = try VideoWriter(path: path, width: size, height: size, fps: fps)
    for chunk in stride(from: 0, to: count, by: Self.exportChunk) {
      let indices = Array(chunk..<min(chunk + Self.exportChunk, count))
      let frames = try self.frames(indices, width: w, height: h)
      for (k, i) in indices.enumerated() {
        let box = Self.smoothedBox(
          boxes, at: i, centreRadius: 8, sideRadius: 16, margin: margin, width: w, height: h)
        try writer.write(rgb: Self.cropRGB(frames[k], width: w, height: h, box: box, size: size))
      }
    }
    try writer.finish()
    return count
  }

  /// The box (x, y, side, side) of an RGB24 frame resized bilinearly to size × size, RGB24.
  static func cropRGB(_ rgb: [UInt8], width: Int, height: Int, box: [Double], size: Int)
    -> [UInt8]
  {
    var out = [UInt8](repeating: 0, count: size * size * 3)
    sampleBilinear(rgb, width: width, height: height, box: box, size: size) { y, x, c, v in
      out[(y * size + x) * 3 + c] = UInt8(min(max(v.rounded(), 0), 255))
    }
    return out
  }
}
