import Foundation
import XCTest
@testable import CAMKit

final class ImageDecodingTests: XCTestCase {
    func testDecodesEveryFixtureAsPillowDoes() throws {
        let manifest = try ImageFixtureManifest.load()
        let decoder = ImageDecoder()
        for c in manifest.decode {
            let image = try decoder.decode(contentsOf: imageFixtureURL(c.file))
            XCTAssertEqual(image.width, c.width, c.file)
            XCTAssertEqual(image.height, c.height, c.file)
            guard image.width == c.width, image.height == c.height else { continue }
            let expected = try rawRGB(c.expected, width: c.width, height: c.height)
            let diff = maxLevelDifference(image, expected)
            // PNG: exact, but alpha compositing, where Pillow's fixed-point alpha_composite may
            // round one level apart from our exact rounding. JPEG: same libjpeg-turbo IDCT.
            let allowed = ["RGBA", "LA"].contains(c.mode) || c.file.contains("palette_trns") ? 1 : 0
            print("decode \(c.file) (\(c.mode)): max diff \(diff) levels")
            XCTAssertLessThanOrEqual(diff, allowed, "\(c.file) (\(c.mode)) differs from Pillow by \(diff) levels")
        }
    }

    func testSniffsTheFormatNotTheExtension() throws {
        let jpeg = try Data(contentsOf: imageFixtureURL("decode/baseline.jpg"))
        let png = try Data(contentsOf: imageFixtureURL("decode/rgb8.png"))
        XCTAssertEqual(ImageDecoder.sniff(jpeg), .jpeg)
        XCTAssertEqual(ImageDecoder.sniff(png), .png)
        XCTAssertEqual(try ImageDecoder().decode(data: jpeg, name: "really-a-jpeg.png").width, 48)
        XCTAssertEqual(try ImageDecoder().decode(data: png, name: "really-a-png.jpg").width, 48)
    }

    func testErrorsNameTheFileAndTheReason() throws {
        let decoder = ImageDecoder()
        func message(_ data: Data, _ name: String) -> String {
            do { _ = try decoder.decode(data: data, name: name); return "decoded" } catch { return "\(error)" }
        }
        XCTAssertEqual(message(Data(), "empty.jpg"), "cannot decode empty.jpg: the file is empty")
        XCTAssertEqual(message(Data("hello, world".utf8), "notes.png"),
                       "cannot decode notes.png: not a JPEG or PNG image (unrecognised signature)")
        let jpeg = try Data(contentsOf: imageFixtureURL("decode/baseline.jpg"))
        XCTAssertEqual(message(jpeg.prefix(jpeg.count / 2), "photo.jpg"),
                       "cannot decode photo.jpg: truncated JPEG data (libjpeg: Premature end of JPEG file)")
        let png = try Data(contentsOf: imageFixtureURL("decode/rgb8.png"))
        let truncatedPNG = message(png.prefix(png.count / 2), "photo.png")
        XCTAssertTrue(truncatedPNG.hasPrefix("cannot decode photo.png: truncated PNG data (libpng: "), truncatedPNG)
        var corrupt = png
        corrupt[20] ^= 0xFF  // inside IHDR: its CRC no longer matches
        let corruptPNG = message(corrupt, "photo.png")
        XCTAssertTrue(corruptPNG.hasPrefix("cannot decode photo.png: corrupt PNG data (libpng: "), corruptPNG)

        let missing = URL(fileURLWithPath: "/nonexistent/dir/holiday.jpg")
        XCTAssertThrowsError(try decoder.decode(contentsOf: missing)) { error in
            XCTAssertEqual((error as? ImageError)?.name, "holiday.jpg")
            XCTAssertTrue("\(error)".hasPrefix("cannot read holiday.jpg: "), "\(error)")
        }
    }

    func testPixelLimitIsCheckedFromTheHeader() throws {
        // A PNG whose header declares 20000×20000 and holds no pixel data at all.
        let png = pngHeaderOnly(width: 20000, height: 20000)
        XCTAssertThrowsError(try ImageDecoder().decode(data: png, name: "photo.png")) { error in
            XCTAssertEqual(error as? ImageError, .tooLarge(name: "photo.png", width: 20000, height: 20000, limit: 100_000_000))
            XCTAssertEqual("\(error)", "photo.png is 20000×20000 = 400 megapixels, over the limit of 100 megapixels")
        }
        // The same for a JPEG: the SOF0 frame size patched to 20000×20000.
        var jpeg = [UInt8](try Data(contentsOf: imageFixtureURL("decode/baseline.jpg")))
        let sof = try XCTUnwrap((0..<jpeg.count - 1).first { jpeg[$0] == 0xFF && jpeg[$0 + 1] == 0xC0 })
        jpeg[sof + 5] = 0x4E; jpeg[sof + 6] = 0x20; jpeg[sof + 7] = 0x4E; jpeg[sof + 8] = 0x20
        XCTAssertThrowsError(try ImageDecoder().decode(data: Data(jpeg), name: "big.jpg")) { error in
            XCTAssertEqual("\(error)", "big.jpg is 20000×20000 = 400 megapixels, over the limit of 100 megapixels")
        }
        // A configurable limit.
        var small = ImageDecoder()
        small.maxPixels = 1000
        XCTAssertThrowsError(try small.decode(contentsOf: imageFixtureURL("decode/rgb8.png"))) { error in
            XCTAssertEqual(error as? ImageError, .tooLarge(name: "rgb8.png", width: 48, height: 32, limit: 1000))
        }
        small.maxPixels = 48 * 32
        XCTAssertNoThrow(try small.decode(contentsOf: imageFixtureURL("decode/rgb8.png")))
    }

    /// Corrupt-but-decodable JPEG data decodes; the warnings are counted, not thrown.
    func testJPEGWarningsDecode() throws {
        let jpeg = [UInt8](try Data(contentsOf: imageFixtureURL("decode/baseline.jpg")))
        let sos = try XCTUnwrap((2..<jpeg.count - 1).first { jpeg[$0] == 0xFF && jpeg[$0 + 1] == 0xDA })
        let damaged = Array(jpeg[..<sos]) + [0x12, 0x34, 0x56] + Array(jpeg[sos...])
        let (image, warnings, first) = try ImageDecoder().decodeWithWarnings(data: Data(damaged), name: "x.jpg")
        XCTAssertEqual(warnings, 1)
        XCTAssertEqual(first, "Corrupt JPEG data: 3 extraneous bytes before marker 0xda")
        XCTAssertEqual(image, try ImageDecoder().decode(data: Data(jpeg), name: "x.jpg"))
    }

    func testEXIFOrientationsMatchPillowsTranspose() {
        // 2×3 image, pixel value = index; compare with the definitions of the 8 orientations.
        let image = RGBImage(width: 2, height: 3, pixels: (0..<6).flatMap { [UInt8($0), 0, 0] })
        func reds(_ o: Int) -> [UInt8] { stride(from: 0, to: 18, by: 3).map { image.applyingEXIFOrientation(o).pixels[$0] } }
        XCTAssertEqual(reds(1), [0, 1, 2, 3, 4, 5])
        XCTAssertEqual(reds(2), [1, 0, 3, 2, 5, 4])
        XCTAssertEqual(reds(3), [5, 4, 3, 2, 1, 0])
        XCTAssertEqual(reds(4), [4, 5, 2, 3, 0, 1])
        XCTAssertEqual(reds(5), [0, 2, 4, 1, 3, 5])  // transpose: 3×2
        XCTAssertEqual(reds(6), [4, 2, 0, 5, 3, 1])  // 90° clockwise
        XCTAssertEqual(reds(7), [5, 3, 1, 4, 2, 0])
        XCTAssertEqual(reds(8), [1, 3, 5, 0, 2, 4])  // 90° counter-clockwise
        XCTAssertEqual(image.applyingEXIFOrientation(6).width, 3)
    }
}

/// The signature and an IHDR chunk (8-bit RGB) with a valid CRC, and nothing else.
func pngHeaderOnly(width: UInt32, height: UInt32) -> Data {
    var bytes: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
    let chunk: [UInt8] = Array("IHDR".utf8) + be32(width) + be32(height) + [8, 2, 0, 0, 0]
    bytes += be32(13) + chunk + be32(crc32(chunk))
    return Data(bytes)
}

func crc32(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for b in bytes {
        crc ^= UInt32(b)
        for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }
    return ~crc
}
