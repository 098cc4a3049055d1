import Foundation
import XCTest
@testable import CAMKit

final class OverlayTests: XCTestCase {
    func testJetIsOpenCVsTable() throws {
        let manifest = try ImageFixtureManifest.load()
        let table = [UInt8](try Data(contentsOf: imageFixtureURL(manifest.overlay.jet)))
        XCTAssertEqual(table.count, 768)
        for i in 0..<256 {
            let c = Colormap.jet[i]
            XCTAssertEqual([c.r, c.g, c.b], Array(table[3 * i..<3 * i + 3]), "JET entry \(i)")
        }
        XCTAssertTrue(Colormap.jet[255] == (128, 0, 0))  // red = high
    }

    /// pytorch-grad-cam's show_cam_on_image on the whole photo, and on the crop box of a recipe
    /// with a 7×7 map resized by cv2; within 2 levels per channel.
    func testOverlayMatchesShowCamOnImage() throws {
        let manifest = try ImageFixtureManifest.load()
        let photo = try ImageDecoder().decode(contentsOf: imageFixtureURL(manifest.overlay.photo))
        let maps = try StateDict(contentsOf: imageFixtureURL("overlay.safetensors"))
        XCTAssertEqual(manifest.overlay.cases.count, 3)
        for c in manifest.overlay.cases {
            let map = try XCTUnwrap(maps[c.map])
            let box = PixelRect(x: c.cropBox[0], y: c.cropBox[1], width: c.cropBox[2], height: c.cropBox[3])
            if let r = c.recipe {
                let recipe = Preprocessing(resizeShorterSide: r.resizeShorterSide, cropWidth: r.cropWidth,
                                           cropHeight: r.cropHeight, interpolation: .bilinear,
                                           mean: Preprocessing.imagenetMean, std: Preprocessing.imagenetStd)
                XCTAssertEqual(recipe.cropBox(for: photo), box, "crop box of \(c.expected)")
            }
            let actual = overlay(map: map, on: photo, cropBox: box, alpha: Float(1 - c.imageWeight))
            let expected = try rawRGB(c.expected, width: photo.width, height: photo.height)
            let diff = maxLevelDifference(actual, expected)
            print("overlay \(c.expected): max diff \(diff) levels")
            XCTAssertLessThanOrEqual(diff, 2, c.expected)
            // Outside the crop box the photo is dimmed, byte for byte.
            for y in 0..<photo.height {
                for x in 0..<photo.width where !(box.x..<box.x + box.width).contains(x) || !(box.y..<box.y + box.height).contains(y) {
                    let (p, a) = (photo[x, y], actual[x, y])
                    XCTAssertTrue(a.r == UInt8(Float(p.r) * 0.4) && a.g == UInt8(Float(p.g) * 0.4) && a.b == UInt8(Float(p.b) * 0.4),
                                  "pixel \(x),\(y) outside the box")
                }
            }
        }
    }

    func testOverlayClampsOutOfRangeAndNaNValues() {
        let photo = RGBImage(width: 2, height: 1, color: (0, 0, 0))
        let out = overlay(map: [-3, .nan], mapWidth: 2, mapHeight: 1, on: photo)
        XCTAssertEqual(out.pixels, [0, 0, 255, 0, 0, 255])  // both JET[0] = (0, 0, 128), normalised to max
        let high = overlay(map: [7, 1], mapWidth: 2, mapHeight: 1, on: photo)
        XCTAssertEqual(high.pixels, [255, 0, 0, 255, 0, 0])
    }
}
