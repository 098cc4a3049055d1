import Foundation
import CAMKit

/// `count` distinct 320×240 PNGs made from the fixture photo (scaled up, each brightened
/// differently), `photo-00.png` …, in `folder` (created).
func writeSyntheticPhotos(_ count: Int, in folder: URL) throws -> [URL] {
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let source = try ImageDecoder().decode(contentsOf: fixtureURL("images/photo.png")).resized(width: 320, height: 240, filter: .bilinear)
    return try (0..<count).map { n in
        let gain = 0.6 + 0.8 * Double(n) / Double(count)
        let image = RGBImage(width: source.width, height: source.height,
                             pixels: source.pixels.map { UInt8(min(255, (Double($0) * gain).rounded())) })
        let url = folder.appendingPathComponent(String(format: "photo-%02d.png", n))
        try image.writePNG(to: url)
        return url
    }
}
