import Foundation
import XCTest
import CAMKit

/// A gallery survives being killed: what is on disk at any moment reads back and holds every
/// photo finished so far, and `--resume` completes it without doing a photo twice.
final class GalleryCrashSafetyTests: XCTestCase {
    var work: URL!

    override func setUpWithError() throws {
        work = try temporaryFolder("gallery-crash")
    }

    /// `count` distinct photos in a folder of their own.
    func photos(_ count: Int) throws -> [URL] {
        try writeSyntheticPhotos(count, in: work.appendingPathComponent("photos"))
    }

    /// The photos (file names) of each line of `progress.jsonl` after the settings line; a
    /// last line without its line break does not count.
    func journalPhotos(_ out: URL) throws -> [String] {
        let text = try String(contentsOf: out.appendingPathComponent(GalleryWriter.journal), encoding: .utf8)
        let lines = text.components(separatedBy: "\n").dropLast().dropFirst()
        return try lines.map { try JSONDecoder().decode(GalleryImageResult.self, from: Data($0.utf8)).file }
    }

    func csvPhotos(_ out: URL) throws -> [String] {
        let rows = try CSV.parse(String(contentsOf: out.appendingPathComponent(GalleryWriter.resultsCSV), encoding: .utf8))
        XCTAssertEqual(rows.first?.fields, GalleryCSV.header)
        return rows.dropFirst().map { $0.fields[0] }
    }

    /// The photos of `results.json`, the last snapshot.
    func snapshotPhotos(_ out: URL) throws -> [String] {
        let data = try Data(contentsOf: out.appendingPathComponent(GalleryWriter.resultsJSON))
        return try JSONDecoder().decode(GalleryResults.self, from: data).images.map(\.file)
    }

    /// Files a kill left half-written (`AtomicFile`'s temporaries), anywhere in `out`.
    func leftovers(_ out: URL) -> [String] {
        let paths = FileManager.default.enumerator(atPath: out.path)?.compactMap { $0 as? String } ?? []
        return paths.filter { $0.hasSuffix(AtomicFile.temporarySuffix) }
    }

    func testKilledGalleryKeepsFinishedPhotosAndResumes() throws {
        let executable = try XCTUnwrap(explainExecutable(), "no explain executable next to the test bundle; run `swift build` first")
        let zoo = try writeSmallZoo(in: work)
        let photos = try photos(12)
        let names = photos.map(\.lastPathComponent)
        let out = work.appendingPathComponent("gallery")
        let arguments = ["gallery", photos[0].deletingLastPathComponent().path, "--zoo", zoo.path, "--models", "small",
                         "--label", "pug", "--out", out.path]

        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Kill it as soon as three photos are done: mid-run, at no particular point of a photo.
        let deadline = Date().addingTimeInterval(120)
        while process.isRunning, Date() < deadline, (try? journalPhotos(out).count) ?? 0 < 3 {
            usleep(2_000)
        }
        XCTAssert(process.isRunning, "the run ended before it could be killed")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationReason, .uncaughtSignal)

        // What a kill leaves: the journal and the CSV hold the same finished photos, in order,
        // each once (the CSV follows the journal, so a kill between the two appends leaves the
        // last photo in the journal only; resume rewrites the CSV); the snapshots read back and
        // hold no photo that is not finished.
        let done = try journalPhotos(out)
        XCTAssertGreaterThanOrEqual(done.count, 3)
        XCTAssertLessThan(done.count, names.count)
        XCTAssertEqual(done, Array(names.prefix(done.count)))
        let csv = try csvPhotos(out)
        XCTAssert(csv.count == done.count || csv.count == done.count - 1, "CSV rows \(csv) for finished photos \(done)")
        XCTAssertEqual(csv, Array(done.prefix(csv.count)))
        let stopped = try XCTUnwrap(GalleryWriter.load(from: out))
        XCTAssertEqual(stopped.images.map(\.file), done)
        for image in stopped.images {
            for file in [image.panelFile!] + image.results.map(\.overlayFile) {
                XCTAssertNoThrow(try ImageDecoder().decode(contentsOf: out.appendingPathComponent(file)), "\(file) of a finished photo reads")
            }
        }
        let snapshot = try snapshotPhotos(out)
        XCTAssertEqual(snapshot, Array(done.prefix(snapshot.count)))
        let page = try String(contentsOf: out.appendingPathComponent(GalleryWriter.index), encoding: .utf8)
        XCTAssert(page.hasSuffix("</html>\n"), "index.html is whole")

        let resumed = try runExplain(arguments + ["--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssert(resumed.stdout.contains("\(names.count - done.count) explained now, \(done.count) kept from before"), resumed.stdout)
        let results = try XCTUnwrap(GalleryWriter.load(from: out))
        XCTAssertEqual(results.images.map(\.file), names, "every photo once, in order")
        XCTAssert(results.images.allSatisfy { !$0.isBad && $0.results.count == 1 })
        XCTAssertEqual(try csvPhotos(out), names)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent(GalleryWriter.journal).path),
                       "a finished run removes its journal")
        XCTAssertEqual(leftovers(out), [])
        _ = try GalleryTests.checkLinks(out)
    }

    /// The journal and the CSV follow every photo; the snapshots follow the refresh schedule
    /// (here: only the run's start and end).
    func testJournalAndCSVGrowWithEveryPhoto() throws {
        let photos = try photos(3)
        let names = photos.map(\.lastPathComponent)
        let out = work.appendingPathComponent("gallery")
        let run = GalleryRun(models: [GalleryTests.smallModel(name: "small")], output: out)
        run.refreshInterval = .seconds(3600)
        var seen: [(journal: [String], csv: [String], snapshot: [String])] = []
        run.progress = { _ in
            seen.append(((try? self.journalPhotos(out)) ?? [], (try? self.csvPhotos(out)) ?? [], (try? self.snapshotPhotos(out)) ?? ["unreadable"]))
        }
        try run.run(photos)
        XCTAssertEqual(seen.count, 3)
        for (i, state) in seen.enumerated() {
            XCTAssertEqual(state.journal, Array(names.prefix(i + 1)))
            XCTAssertEqual(state.csv, Array(names.prefix(i + 1)))
            XCTAssertEqual(state.snapshot, [], "results.json is the one of the run's start until its end")
        }
        XCTAssertEqual(try snapshotPhotos(out), names)
        XCTAssertEqual(try GalleryWriter.load(from: out)?.images.map(\.file), names)
    }
}
