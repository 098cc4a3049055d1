import Foundation
import XCTest
@testable import CAMKit

/// Damaged input never crashes the decoders: every case ends in an `ImageError` or an image.
final class DecoderFuzzTests: XCTestCase {
    static let files = ["baseline.jpg", "progressive.jpg", "cmyk.jpg", "gray.jpg", "orient6.jpg",
                        "rgb8.png", "palette_trns.png", "rgba.png", "rgb16.png", "gray16.png", "bilevel.png"]

    private var cases = 0

    /// Decodes; an image must be a whole, consistent one, an error must be an ImageError naming the input.
    private func check(_ data: Data, _ name: String, file: StaticString = #filePath, line: UInt = #line) {
        cases += 1
        do {
            let image = try ImageDecoder().decode(data: data, name: name)
            XCTAssertEqual(image.pixels.count, image.width * image.height * 3, name, file: file, line: line)
        } catch let error as ImageError {
            XCTAssertEqual(error.name, name, file: file, line: line)
            XCTAssertFalse(error.description.isEmpty, file: file, line: line)
        } catch {
            XCTFail("\(name): unexpected error type \(error)", file: file, line: line)
        }
    }

    func testTruncatedFiles() throws {
        for file in Self.files {
            let data = try Data(contentsOf: imageFixtureURL("decode/" + file))
            var offsets = Set([0, 1, 2, 3, 4, 7, 8, 9, 16, 24, 33, 40, 64, 100, data.count - 2, data.count - 1])
            for k in 1..<24 { offsets.insert(data.count * k / 24) }
            for n in offsets.sorted() where n >= 0 && n < data.count {
                check(data.prefix(n), "\(file)[..<\(n)]")
            }
            // Cut inside the image data: these must be errors, not grey-padded pictures.
            let cut = data.prefix(data.count * 2 / 3)
            XCTAssertThrowsError(try ImageDecoder().decode(data: cut, name: file)) { error in
                guard case .truncated = error as? ImageError else { return XCTFail("\(file): \(error)") }
            }
        }
        print("truncation cases: \(cases)")
    }

    func testCorruptedBytes() throws {
        var rng = SplitMix64(seed: 2026)
        for file in Self.files {
            let original = [UInt8](try Data(contentsOf: imageFixtureURL("decode/" + file)))
            for trial in 0..<30 {
                var bytes = original
                let flips = 1 + Int(rng.next() % 8)
                for _ in 0..<flips {
                    // Half of the flips in the first 200 bytes, where the headers are.
                    let range = rng.next() % 2 == 0 ? min(200, bytes.count) : bytes.count
                    let i = Int(rng.next() % UInt64(range))
                    if i < 3 { continue }  // keep the signature, so the decoder is reached
                    bytes[i] ^= UInt8(truncatingIfNeeded: 1 + rng.next() % 255)
                }
                check(Data(bytes), "\(file)#\(trial)")
            }
        }
        print("corruption cases: \(cases)")
    }

    func testRandomBytes() {
        var rng = SplitMix64(seed: 7)
        let prefixes: [[UInt8]] = [[], [0xFF, 0xD8, 0xFF], [0xFF, 0xD8, 0xFF, 0xE0],
                                   [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A],
                                   [UInt8](pngHeaderOnly(width: 16, height: 16))]
        for (p, prefix) in prefixes.enumerated() {
            for trial in 0..<30 {
                let count = Int(rng.next() % 600)
                let bytes = prefix + (0..<count).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                check(Data(bytes), "random\(p)-\(trial)")
            }
        }
        print("random cases: \(cases)")
    }
}

struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
