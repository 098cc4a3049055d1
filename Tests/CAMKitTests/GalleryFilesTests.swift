import Foundation
import XCTest
import CAMKit

/// How a gallery's files are written: atomically, as a journal that a kill cannot spoil, and
/// with charts whose size does not grow with the photos.
final class GalleryFilesTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = try temporaryFolder("gallery-files")
    }

    /// A reader that keeps reading a file while it is replaced again and again sees only
    /// whole versions of it (a plain write would show it empty or cut short).
    func testAtomicWritesAreNeverSeenHalfDone() throws {
        let url = folder.appendingPathComponent("results.json")
        let versions = [Data(repeating: UInt8(ascii: "a"), count: 4 << 20), Data(repeating: UInt8(ascii: "b"), count: 3 << 20)]
        try AtomicFile.write(versions[0], to: url)
        let reader = FileReader(url: url, versions: versions)
        let done = DispatchGroup()
        DispatchQueue.global().async(group: done) { reader.readUntilStopped() }
        while reader.seen.reads == 0 { usleep(100) }
        for n in 1...60 { try AtomicFile.write(versions[n % 2], to: url) }
        reader.stop()
        done.wait()
        let (reads, torn) = reader.seen
        XCTAssertGreaterThan(reads, 0)
        XCTAssert(torn.isEmpty, "\(torn.count) of \(reads) reads saw a half-written file, e.g. of \(torn.prefix(5)) bytes")
        XCTAssertEqual(try Data(contentsOf: url), versions[0])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["results.json"], "no temporary file is left")
    }

    /// Reads a file over and over on another thread, noting every read that is none of `versions`.
    final class FileReader: @unchecked Sendable {
        let url: URL
        let versions: [Data]
        private let lock = NSLock()
        private var running = true, reads = 0, torn: [Int] = []

        init(url: URL, versions: [Data]) {
            self.url = url
            self.versions = versions
        }

        /// How many reads, and the sizes of those that were none of the versions.
        var seen: (reads: Int, torn: [Int]) { lock.withLock { (reads, torn) } }

        func stop() { lock.withLock { running = false } }

        func readUntilStopped() {
            while lock.withLock({ running }) {
                let data = FileManager.default.contents(atPath: url.path) ?? Data()
                let whole = versions.contains(data)
                lock.withLock {
                    reads += 1
                    if !whole { torn.append(data.count) }
                }
            }
        }
    }

    func testAtomicWriteErrorsNameTheFileAndLeftoversAreRemoved() throws {
        let missing = folder.appendingPathComponent("no such folder/results.json")
        XCTAssertThrowsError(try AtomicFile.write(Data("x".utf8), to: missing)) {
            XCTAssert("\($0)".contains(missing.path), "\($0)")
        }
        // A kill between writing the temporary file and renaming it leaves this behind.
        let leftover = folder.appendingPathComponent(".index.html.1234\(AtomicFile.temporarySuffix)")
        try Data("half".utf8).write(to: leftover)
        try Data("keep".utf8).write(to: folder.appendingPathComponent("notes.partial"))
        AtomicFile.removeLeftovers(in: folder)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["notes.partial"])
    }

    static func image(_ file: String) -> GalleryImageResult {
        GalleryImageResult(file: file, source: "/photos/\(file)", folder: "images/\(file)", truth: nil, error: "unreadable",
                           panelFile: nil, results: [])
    }

    /// The journal of a killed run: whole lines count, a last line cut short by the kill does
    /// not, and a broken line anywhere else is an error naming its file and line.
    func testJournalOfAKilledRun() throws {
        let encoder = JSONEncoder()
        func line(_ value: some Encodable) throws -> String { String(decoding: try encoder.encode(value), as: UTF8.self) + "\n" }
        let settings = GalleryResults(models: ["small"], method: "gradcam", layer: nil, target: "top1")
        let whole = try line(settings) + line(Self.image("a.png")) + line(Self.image("b\nc.png"))
        let cut = String(try line(Self.image("d.png")).prefix(30))
        let journal = folder.appendingPathComponent(GalleryWriter.journal)

        try Data((whole + cut).utf8).write(to: journal)
        let results = try XCTUnwrap(GalleryWriter.load(from: folder))
        XCTAssertEqual(results.images.map(\.file), ["a.png", "b\nc.png"])
        XCTAssertEqual(results.models, ["small"])

        try Data((whole + cut + "\n" + line(Self.image("e.png"))).utf8).write(to: journal)
        XCTAssertThrowsError(try GalleryWriter.load(from: folder)) {
            XCTAssert("\($0)".contains("\(journal.path):4"), "\($0)")
        }

        // The journal of a stopped run wins over the results.json it left.
        try Data(whole.utf8).write(to: journal)
        try JSONEncoder().encode(settings).write(to: folder.appendingPathComponent(GalleryWriter.resultsJSON))
        XCTAssertEqual(try GalleryWriter.load(from: folder)?.images.count, 2)
        try FileManager.default.removeItem(at: journal)
        XCTAssertEqual(try GalleryWriter.load(from: folder)?.images.count, 0)
    }

    /// PNG width from its header.
    func pngWidth(_ url: URL) throws -> Int {
        let data = try Data(contentsOf: url)
        return data[16..<20].reduce(0) { $0 << 8 | Int($1) }
    }

    /// Past `pageSize` photos the comparison chart goes on on a new page, so no chart grows
    /// with the gallery.
    func testComparisonChartIsPagedByFiftyPhotos() throws {
        let photos = folder.appendingPathComponent("photos")
        try FileManager.default.createDirectory(at: photos, withIntermediateDirectories: true)
        let urls = try (0..<51).map { n -> URL in
            let url = photos.appendingPathComponent(String(format: "p%02d.png", n))
            try RGBImage(width: 8, height: 6, color: (UInt8(n * 5), 90, 200)).writePNG(to: url)
            return url
        }
        let out = folder.appendingPathComponent("gallery")
        try GalleryRun(models: [GalleryTests.smallModel(name: "small")], output: out).run(urls)
        let links = try GalleryTests.checkLinks(out)
        XCTAssert(links.contains("confidence-comparison.png") && links.contains("confidence-comparison-2.png"), "\(links)")
        XCTAssertFalse(links.contains("confidence-comparison-3.png"))
        let html = try String(contentsOf: out.appendingPathComponent(GalleryWriter.index), encoding: .utf8)
        XCTAssert(html.contains("photos 1–50") && html.contains("photo 51 "), "captions name each page's photos")
        XCTAssertLessThan(try pngWidth(out.appendingPathComponent("confidence-comparison-2.png")),
                          try pngWidth(out.appendingPathComponent("confidence-comparison.png")) / 2)
    }
}
