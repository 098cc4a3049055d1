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

    /// Decompression bombs: files of a few hundred bytes whose headers claim 60000×60000
    /// (10.8 GB as RGB) are refused from the header, naming the file, its size and the limit.
    /// The refusal itself is the memory check: the decoders only report these dimensions
    /// before allocating the pixel buffer (Sources/CImageCodecs).
    func testDecompressionBombsAreRefusedBeforeAllocating() throws {
        func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
        func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
            let body = Array(type.utf8) + data
            return be32(UInt32(data.count)) + body + be32(crc32(body))
        }
        // A whole PNG: IHDR, an IDAT holding the zlib stream of one zero byte, IEND.
        let png = [UInt8](pngHeaderOnly(width: 60000, height: 60000))
            + chunk("IDAT", [0x78, 0x9C, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01]) + chunk("IEND", [])
        // Baseline (SOF0) and progressive (SOF2) JPEGs with their frame size patched.
        func jpegBomb(_ file: String, marker: UInt8) throws -> [UInt8] {
            var jpeg = [UInt8](try Data(contentsOf: imageFixtureURL("decode/" + file)))
            let sof = try XCTUnwrap((0..<jpeg.count - 1).first { jpeg[$0] == 0xFF && jpeg[$0 + 1] == marker }, file)
            jpeg.replaceSubrange((sof + 5)..<(sof + 9), with: [0xEA, 0x60, 0xEA, 0x60])  // height, width: 60000
            return jpeg
        }
        let bombs = [("bomb.png", png), ("bomb.jpg", try jpegBomb("baseline.jpg", marker: 0xC0)),
                     ("bomb-progressive.jpg", try jpegBomb("progressive.jpg", marker: 0xC2))]
        for (name, bytes) in bombs {
            XCTAssertLessThan(bytes.count, 4096, name)
            let url = FileManager.default.temporaryDirectory.appendingPathComponent("camkit-\(UUID().uuidString)-\(name)")
            try Data(bytes).write(to: url)
            defer { try? FileManager.default.removeItem(at: url) }
            XCTAssertThrowsError(try ImageDecoder().decode(contentsOf: url)) { error in
                XCTAssertEqual(error as? ImageError, .tooLarge(name: url.lastPathComponent, width: 60000, height: 60000, limit: 100_000_000))
                XCTAssertEqual("\(error)", "\(url.lastPathComponent) is 60000×60000 = 3600 megapixels, over the limit of 100 megapixels")
            }
            // The limit is the caller's: a server keeps a lower one.
            XCTAssertThrowsError(try ImageDecoder(maxPixels: 40_000_000).decode(contentsOf: url)) { error in
                XCTAssertEqual("\(error)", "\(url.lastPathComponent) is 60000×60000 = 3600 megapixels, over the limit of 40 megapixels")
            }
        }
        // A PNG width past the format's 2^31 - 1 is corrupt, not a number to multiply.
        let tooWide = [UInt8](pngHeaderOnly(width: 0x8000_0000, height: 1))
        XCTAssertThrowsError(try ImageDecoder().decode(data: Data(tooWide), name: "wide.png")) { error in
            guard case .corrupt(name: "wide.png", format: "PNG", _) = error as? ImageError else { return XCTFail("\(error)") }
        }
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
