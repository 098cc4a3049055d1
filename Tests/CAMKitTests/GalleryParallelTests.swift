import Foundation
import XCTest
@testable import CAMKit

/// Galleries that work on several photos at once: the same files as a serial run, overlays of
/// the documented size, and clear errors for settings that make no sense.
final class GalleryParallelTests: XCTestCase {
    var work: URL!

    override func setUpWithError() throws {
        work = try temporaryFolder("gallery-parallel")
    }

    /// `count` distinct photos of `width`×`height` made from the fixture (each tinted
    /// differently), then a corrupt PNG, in a folder of their own.
    func photos(_ count: Int, width: Int = 320, height: Int = 240) throws -> [URL] {
        let folder = work.appendingPathComponent("photos")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let source = try ImageDecoder().decode(contentsOf: fixtureURL("images/photo.png")).resized(width: width, height: height, filter: .bilinear)
        var urls = try (0..<count).map { n in
            let tint = UInt8(n * 37 % 256)
            var pixels = source.pixels
            for i in stride(from: n % 3, to: pixels.count, by: 3) { pixels[i] = pixels[i] / 2 + tint / 2 }
            let image = RGBImage(width: width, height: height, pixels: pixels)
            let url = folder.appendingPathComponent(String(format: "photo-%02d.png", n))
            try image.writePNG(to: url)
            return url
        }
        let corrupt = folder.appendingPathComponent("photo-corrupt.png")
        try Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + Array("cut".utf8)).write(to: corrupt)
        urls.insert(corrupt, at: count / 2)
        return urls
    }

    /// A picture whose every byte differs from its neighbours, so filters and scaling show.
    static func pattern(width: Int, height: Int) -> RGBImage {
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for i in pixels.indices {
            let value: Int = (i * 31 + i / 111) % 256
            pixels[i] = UInt8(value)
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    func models() -> [ExplainableModel] {
        [GalleryTests.smallModel(name: "small-a"), GalleryTests.smallModel(name: "small-b")]
    }

    /// The results without their timings, which are all a parallel run may change.
    func untimed(_ results: GalleryResults) -> GalleryResults {
        var results = results
        for i in results.images.indices {
            for j in results.images[i].results.indices { results.images[i].results[j].elapsedMilliseconds = 0 }
        }
        return results
    }

    /// Every file of the gallery but the ones holding timings, by path relative to it.
    func files(_ out: URL) throws -> [String: Data] {
        let paths = FileManager.default.enumerator(atPath: out.path)?.compactMap { $0 as? String } ?? []
        var files: [String: Data] = [:]
        for path in paths where ![GalleryWriter.resultsJSON, GalleryWriter.index].contains(path) {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: out.appendingPathComponent(path).path, isDirectory: &isDirectory), !isDirectory.boolValue {
                files[path] = try Data(contentsOf: out.appendingPathComponent(path))
            }
        }
        return files
    }

    func testParallelRunEqualsSerialRunRowForRowAndByteForByte() throws {
        let photos = try photos(7)
        var outcomes: [GalleryOutcome] = [], progress: [[Int]] = [], galleries: [[String: Data]] = []
        for jobs in [1, 3] {
            let out = work.appendingPathComponent("gallery-\(jobs)")
            let run = GalleryRun(models: models(), output: out)
            run.jobs = jobs
            run.overlayMaxSide = 200
            var seen: [Int] = []
            run.progress = { seen.append($0.done) }
            outcomes.append(try run.run(photos))
            progress.append(seen)
            galleries.append(try files(out))
        }
        XCTAssertEqual(progress[0], Array(1...photos.count))
        XCTAssertEqual(progress[1], progress[0], "progress goes in photo order")
        XCTAssertEqual(outcomes[1].bad.map(\.file), ["photo-corrupt.png"])
        XCTAssertEqual(untimed(outcomes[1].results), untimed(outcomes[0].results))
        XCTAssertEqual(galleries[1].keys.sorted(), galleries[0].keys.sorted())
        XCTAssertEqual(galleries[0].keys.filter { $0.hasSuffix("small-a.png") }.count, photos.count - 1, "one overlay per good photo and model")
        for (path, data) in galleries[0] {
            XCTAssert(galleries[1][path] == data, "\(path) differs between --jobs 1 and --jobs 3")
        }
    }

    /// A resumed parallel run keeps the earlier photos and explains the rest in order.
    func testParallelResumeExplainsOnlyTheRest() throws {
        let photos = try photos(6)
        let out = work.appendingPathComponent("gallery")
        let first = GalleryRun(models: models(), output: out)
        first.jobs = 2
        try first.run(Array(photos.prefix(4)))
        let again = GalleryRun(models: models(), output: out)
        again.jobs = 2
        var seen: [(done: Int, reused: Int)] = []
        again.progress = { seen.append(($0.done, $0.reused)) }
        let outcome = try again.run(photos, resume: true)
        XCTAssertEqual(outcome.explained, 4, "the three good photos kept, the bad one tried again")
        XCTAssertEqual(outcome.reused, 3)
        XCTAssertEqual(outcome.results.images.map(\.source), photos.map(\.path))
        XCTAssertEqual(seen.map(\.done), Array(1...photos.count))
        XCTAssertEqual(seen.last?.reused, 3)
    }

    func testOverlaysAreScaledToMaxOverlaySide() throws {
        let photos = try photos(1, width: 320, height: 240).filter { !$0.lastPathComponent.contains("corrupt") }
        for (side, expected) in [(100, (100, 75)), (0, (320, 240)), (1000, (320, 240)), (240, (240, 180))] {
            let out = work.appendingPathComponent("gallery-\(side)")
            let run = GalleryRun(models: [GalleryTests.smallModel(name: "small")], output: out)
            run.overlayMaxSide = side
            let image = try XCTUnwrap(run.run(photos).results.images.first)
            let overlay = try ImageDecoder().decode(contentsOf: out.appendingPathComponent(image.results[0].overlayFile))
            XCTAssertEqual([overlay.width, overlay.height], [expected.0, expected.1], "--max-overlay-side \(side)")
        }
    }

    func testFittedScalesDownWithBicubicNeverUp() {
        let image = Self.pattern(width: 90, height: 30)
        XCTAssertEqual(image.fitted(maxSide: 45), image.resized(width: 45, height: 15, filter: .bicubic))
        XCTAssertEqual(image.fitted(maxSide: 0), image)
        XCTAssertEqual(image.fitted(maxSide: 90), image)
        XCTAssertEqual(image.fitted(maxSide: 500), image)
        let tall = RGBImage(width: 3, height: 400, color: (10, 20, 30))
        XCTAssertEqual([tall.fitted(maxSide: 100).width, tall.fitted(maxSide: 100).height], [1, 100], "no side shrinks to nothing")
    }

    func testInvalidSettingsNameTheValueAndTheReason() throws {
        let photos = try photos(1)
        let run = GalleryRun(models: models(), output: work.appendingPathComponent("gallery"))
        run.jobs = 0
        XCTAssertThrowsError(try run.run(photos)) { XCTAssert("\($0)".contains("jobs 0"), "\($0)") }
        run.jobs = 1
        run.overlayMaxSide = -5
        XCTAssertThrowsError(try run.run(photos)) { XCTAssert("\($0)".contains("overlay max side -5"), "\($0)") }

        for (option, value) in [("--jobs", "0"), ("--jobs", "-2"), ("--max-overlay-side", "-1")] {
            let result = try runExplain(["gallery", photos[0].path, "--out", work.appendingPathComponent("cli").path, "\(option)=\(value)"])
            XCTAssertNotEqual(result.status, 0)
            XCTAssert(result.stderr.contains("\(option) \(value)"), "\(option) \(value): \(result.stderr)")
        }
        let words = try runExplain(["gallery", photos[0].path, "--out", work.appendingPathComponent("cli").path, "--jobs", "many"])
        XCTAssertNotEqual(words.status, 0)
        XCTAssert(words.stderr.contains("many"), words.stderr)
    }

    func testPNGEncoderRoundTripsEveryFilterAndLevel() throws {
        let image = Self.pattern(width: 37, height: 23)
        for filter in PNGEncoder.RowFilter.allCases {
            for level in [0, 1, 6, 9] {
                let data = try PNGEncoder(level: level, filter: filter).encode(image)
                XCTAssertEqual(try ImageDecoder().decode(data: data, name: "\(filter) \(level)"), image, "\(filter) at level \(level)")
            }
        }
        XCTAssertThrowsError(try PNGEncoder.standard.encode(RGBImage(width: 0, height: 4, pixels: []))) {
            XCTAssert("\($0)".contains("0×4"), "\($0)")
        }
    }

    /// Results arrive in order whatever order the workers finish in, and no more than
    /// `window` items are ever started and not yet delivered.
    func testOrderedPipelineDeliversInOrderWithinItsWindow() throws {
        let lock = NSLock()
        var started = 0, delivered = 0, widest = 0
        var order: [Int] = []
        try OrderedPipeline(workers: 3, window: 4).run(count: 40, work: { i in
            lock.withLock { started += 1; widest = max(widest, started - delivered) }
            usleep(UInt32((i * 7919) % 5) * 1000)
            return i * i
        }, deliver: { i, value in
            XCTAssertEqual(value, i * i)
            order.append(i)
            lock.withLock { delivered += 1 }
        })
        XCTAssertEqual(order, Array(0..<40))
        XCTAssertLessThanOrEqual(widest, 4)

        struct Stop: Error {}
        var worked = 0
        XCTAssertThrowsError(try OrderedPipeline(workers: 2, window: 2).run(count: 100, work: { i in
            lock.withLock { worked += 1 }
            return i
        }, deliver: { i, _ in if i == 3 { throw Stop() } })) { XCTAssert($0 is Stop) }
        XCTAssertLessThanOrEqual(lock.withLock { worked }, 6, "no item is started after a delivery failed, beyond the window")
    }
}
