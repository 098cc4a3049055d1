import Foundation
import XCTest
import CAMKit

/// Galleries split into shards (`--shard K/N`, `--shards N` with `JOB_COMPLETION_INDEX` or the
/// Slurm array variables) and merged (`explain gallery merge`).
final class GalleryShardTests: XCTestCase {
    // MARK: Assignment

    func testStableHashIsFNV1a() {
        // The published FNV-1a 64-bit test vectors: the assignment must not change between builds.
        XCTAssertEqual(GalleryShard.stableHash(""), 0xcbf2_9ce4_8422_2325)
        XCTAssertEqual(GalleryShard.stableHash("a"), 0xaf63_dc4c_8601_ec8c)
        XCTAssertEqual(GalleryShard.stableHash("foobar"), 0x8594_4171_f739_67e8)
    }

    func testEveryPhotoBelongsToOneShardWhereverTheFolderIs() throws {
        let names = (0..<200).map { "photo-\($0).jpg" }
        let shards = try (0..<4).map { try GalleryShard(index: $0, count: 4) }
        var counts = [0, 0, 0, 0]
        for name in names {
            let owners = shards.filter { $0.owns(URL(fileURLWithPath: "/data/a/\(name)")) }
            XCTAssertEqual(owners.count, 1, name)
            XCTAssertEqual(owners.first.map { $0.owns(URL(fileURLWithPath: "/mnt/elsewhere/\(name)")) }, true,
                           "\(name): the shard depends on the folder's mount point")
            counts[owners[0].index] += 1
        }
        XCTAssert(counts.allSatisfy { $0 > 30 }, "uneven shards \(counts)")
    }

    func testShardFromArgumentAndEnvironment() throws {
        XCTAssertEqual(try GalleryShard(parsing: "2/4"), try GalleryShard(index: 2, count: 4))
        for bad in ["4/4", "-1/4", "1/0", "1", "a/b", "1/2/3"] {
            XCTAssertThrowsError(try GalleryShard(parsing: bad), bad)
        }
        XCTAssertEqual(try GalleryShard(count: 4, environment: ["JOB_COMPLETION_INDEX": "3"]).index, 3)
        XCTAssertEqual(try GalleryShard(count: 4, environment: ["SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_COUNT": "4"]).index, 2)
        XCTAssertEqual(try GalleryShard(count: 4, environment: ["SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_MIN": "1",
                                                                "SLURM_ARRAY_TASK_COUNT": "4"]).index, 3)
        func message(_ environment: [String: String]) -> String {
            do { _ = try GalleryShard(count: 4, environment: environment); return "no error" } catch { return "\(error)" }
        }
        XCTAssert(message([:]).contains("neither is set"), message([:]))
        XCTAssert(message(["JOB_COMPLETION_INDEX": "x"]).contains("JOB_COMPLETION_INDEX='x' is not a number"))
        XCTAssert(message(["JOB_COMPLETION_INDEX": "4"]).contains("shards are numbered 0 to 3"))
        XCTAssert(message(["SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "8"]).contains("SLURM_ARRAY_TASK_COUNT=8"))
        XCTAssert(message(["SLURM_ARRAY_TASK_ID": "6", "SLURM_ARRAY_TASK_COUNT": "4"]).contains("--array=0-3"))
    }

    // MARK: Merging, on folders made by hand

    /// A shard folder holding `results` for `sources` out of `total` photos, with one-byte pictures;
    /// with `metrics`, each photo's drop in confidence is its position.
    func handMadeShard(_ folder: URL, shard: GalleryShard, sources: [(position: Int, source: String)], finished: Int? = nil,
                       method: String = "gradcam", sha: String = "aa", total: Int = 4, metrics: String? = nil) throws {
        var manifest = GalleryShardManifest(shard: shard, all: [], models: [GalleryModelIdentity(name: "m", weightsSHA256: sha)],
                                            method: method, layer: nil, target: "top1", metrics: metrics)
        manifest.totalPhotos = total
        manifest.photos = sources.map { GalleryShardPhoto(position: $0.position, file: URL(fileURLWithPath: $0.source).lastPathComponent,
                                                          source: $0.source) }
        try manifest.write(to: folder, resume: false)
        var results = GalleryResults(models: ["m"], method: method, layer: nil, target: "top1", metrics: metrics)
        for (n, photo) in sources.prefix(finished ?? sources.count).enumerated() {
            let name = URL(fileURLWithPath: photo.source).lastPathComponent
            let picture = "images/shard-folder-\(n)"
            try FileManager.default.createDirectory(at: folder.appendingPathComponent(picture), withIntermediateDirectories: true)
            try Data([UInt8(photo.position)]).write(to: folder.appendingPathComponent("\(picture)/panel.png"))
            try Data([UInt8(photo.position), 1]).write(to: folder.appendingPathComponent("\(picture)/m.png"))
            results.images.append(GalleryImageResult(
                file: name, source: photo.source, folder: picture, truth: nil, error: nil, panelFile: "\(picture)/panel.png",
                results: [GalleryModelResult(model: "m", predictedIndex: 0, predictedLabel: "a", confidence: 0.5, top: [],
                                             targetLabel: "a", verdict: .unlabelled, overlayFile: "\(picture)/m.png", elapsedMilliseconds: 1,
                                             metrics: metrics.map { _ in GalleryMetrics(confidenceDrop: Double(photo.position), confidenceIncrease: false) })]))
        }
        try JSONEncoder().encode(results).write(to: folder.appendingPathComponent(GalleryWriter.resultsJSON))
    }

    func testMergeOrdersByInputAndNamesWhatIsMissingOrTwice() throws {
        let work = try temporaryFolder("merge-hand")
        let zero = work.appendingPathComponent("s0"), one = work.appendingPathComponent("s1"), out = work.appendingPathComponent("out")
        try handMadeShard(zero, shard: try GalleryShard(index: 0, count: 3), sources: [(1, "/p/b.png"), (3, "/p/a.png")])
        try handMadeShard(one, shard: try GalleryShard(index: 1, count: 3), sources: [(0, "/p/d.png"), (2, "/p/c.png"), (1, "/p/b.png")],
                          finished: 1)
        let report = try GalleryMerge.merge([zero, one], into: out)
        XCTAssertEqual(report.results.images.map(\.source), ["/p/d.png", "/p/b.png", "/p/a.png"])
        XCTAssertEqual(report.results.images.map(\.folder), ["images/d_png", "images/b_png", "images/a_png"])
        XCTAssertEqual(report.missing, ["/p/c.png"])
        XCTAssertEqual(report.absentShards, [try GalleryShard(index: 2, count: 3)])
        XCTAssertEqual(report.duplicates, [])
        XCTAssertFalse(report.isComplete)
        // Pictures moved to the folders a single run gives them, bytes unchanged.
        XCTAssertEqual(try Data(contentsOf: out.appendingPathComponent("images/a_png/m.png")), Data([3, 1]))
        XCTAssertEqual(try Data(contentsOf: out.appendingPathComponent("images/d_png/panel.png")), Data([0]))
        XCTAssertEqual(try GalleryWriter.load(from: out)?.images.map(\.file), ["d.png", "b.png", "a.png"])
        _ = try GalleryTests.checkLinks(out)

        // Shard 1 holding b.png too (finished): present twice.
        try handMadeShard(one, shard: try GalleryShard(index: 1, count: 3), sources: [(1, "/p/b.png")])
        let twice = try GalleryMerge.merge([zero, one], into: out)
        XCTAssertEqual(twice.duplicates, ["/p/b.png (in \(zero.path) and \(one.path))"])
        XCTAssertEqual(twice.results.images.map(\.source), ["/p/b.png", "/p/a.png"])
    }

    func testMergeKeepsTheMetrics() throws {
        let work = try temporaryFolder("merge-metrics")
        let zero = work.appendingPathComponent("s0"), one = work.appendingPathComponent("s1"), out = work.appendingPathComponent("out")
        try handMadeShard(zero, shard: try GalleryShard(index: 0, count: 2), sources: [(1, "/p/b.png"), (3, "/p/a.png")], metrics: "confidence")
        try handMadeShard(one, shard: try GalleryShard(index: 1, count: 2), sources: [(0, "/p/d.png"), (2, "/p/c.png")], metrics: "confidence")
        let report = try GalleryMerge.merge([zero, one], into: out)
        XCTAssertEqual(report.results.metrics, "confidence")
        XCTAssertEqual(report.results.images.map { $0.results[0].metrics?.confidenceDrop }, [0, 1, 2, 3])
        XCTAssertEqual(report.results.metricMeans.first?.averageDrop, 1.5)
        XCTAssertEqual(try GalleryWriter.load(from: out), report.results)
    }

    func testMergeLinksOnlyFilesInsideTheShard() throws {
        let work = try temporaryFolder("merge-escape")
        let shard = work.appendingPathComponent("s0")
        try handMadeShard(shard, shard: try GalleryShard(index: 0, count: 1), sources: [(0, "/p/a.png")], total: 1)
        let url = shard.appendingPathComponent(GalleryWriter.resultsJSON)
        var results = try JSONDecoder().decode(GalleryResults.self, from: Data(contentsOf: url))
        results.images[0].results[0].overlayFile = "images/shard-folder-0/../../../secret"
        try JSONEncoder().encode(results).write(to: url)
        XCTAssertThrowsError(try GalleryMerge.merge([shard], into: work.appendingPathComponent("out"))) { error in
            XCTAssert("\(error)".contains("images/shard-folder-0/../../../secret is not a file of the photo's folder"), "\(error)")
        }
    }

    func testMergeRefusesShardsOfDifferentRunsNamingThem() throws {
        let work = try temporaryFolder("merge-refuse")
        let out = work.appendingPathComponent("out")
        func shard(_ name: String, _ index: Int, count: Int = 2, method: String = "gradcam", sha: String = "aa", total: Int = 4,
                   metrics: String? = nil) throws -> URL {
            let url = work.appendingPathComponent(name)
            try handMadeShard(url, shard: try GalleryShard(index: index, count: count), sources: [(index, "/p/\(index).png")],
                              method: method, sha: sha, total: total, metrics: metrics)
            return url
        }
        let base = try shard("base", 0)
        let cases: [(URL, String)] = [
            (try shard("method", 1, method: "layercam"), "different methods: \(work.path)/base (gradcam), \(work.path)/method (layercam)"),
            (try shard("weights", 1, sha: "bb"), "different weights for m: \(work.path)/base (sha256 aa), \(work.path)/weights (sha256 bb)"),
            (try shard("count", 1, count: 3), "different shard counts: \(work.path)/base (2 shards), \(work.path)/count (3 shards)"),
            (try shard("input", 1, total: 5), "different inputs: \(work.path)/base (4 photos in all), \(work.path)/input (5 photos in all)"),
            (try shard("metrics", 1, metrics: "all"), "different metrics: \(work.path)/base (none), \(work.path)/metrics (all)"),
            (try shard("again", 0), "shard 0/2 is given twice: \(work.path)/base and \(work.path)/again"),
            (work.appendingPathComponent("nothing"), "\(work.path)/nothing is not a gallery shard"),
        ]
        for (other, says) in cases {
            XCTAssertThrowsError(try GalleryMerge.merge([base, other], into: out)) { error in
                XCTAssert("\(error)".contains(says), "\(error)\nshould say: \(says)")
            }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path), "a refused merge writes nothing")
        XCTAssertThrowsError(try GalleryMerge.merge([base], into: base))
    }

    // MARK: Real shards, as a Kubernetes Indexed Job runs them

    /// Four shard processes started at once with `JOB_COMPLETION_INDEX` 0–3 over one folder, one
    /// of them killed midway and resumed, then merged: `results.csv` is the single run's, every
    /// picture the same bytes, and `results.json` the same but for the timings.
    func testFourShardProcessesMergeToTheSingleRun() throws {
        let work = try temporaryFolder("gallery-shards")
        let executable = try XCTUnwrap(explainExecutable(), "no explain executable next to the test bundle; run `swift build` first")
        let zoo = try writeSmallZoo(in: work)
        let photos = try writeSyntheticPhotos(12, in: work.appendingPathComponent("photos"))
        let folder = photos[0].deletingLastPathComponent().path
        func arguments(_ out: URL) -> [String] {
            ["gallery", folder, "--zoo", zoo.path, "--models", "small", "--label", "pug", "--jobs", "1", "--out", out.path]
        }
        let single = work.appendingPathComponent("single")
        let whole = try runExplain(arguments(single))
        XCTAssertEqual(whole.status, 0, whole.stderr)

        let shardOut = (0..<4).map { work.appendingPathComponent("shards/\($0)") }
        let sizes = try (0..<4).map { k in try photos.filter { try GalleryShard(index: k, count: 4).owns($0) }.count }
        let killed = sizes.firstIndex(of: sizes.max()!)!
        XCTAssertGreaterThanOrEqual(sizes[killed], 3, "shard sizes \(sizes)")

        // The largest shard is killed after its first photo, then resumed.
        let victim = Process()
        victim.executableURL = executable
        victim.arguments = arguments(shardOut[killed]) + ["--shards", "4"]
        victim.environment = ProcessInfo.processInfo.environment.merging(["JOB_COMPLETION_INDEX": "\(killed)"]) { $1 }
        victim.standardOutput = FileHandle.nullDevice
        victim.standardError = FileHandle.nullDevice
        try victim.run()
        let deadline = Date().addingTimeInterval(120)
        while victim.isRunning, Date() < deadline, ((try? GalleryWriter.load(from: shardOut[killed]))??.images.count ?? 0) < 1 { usleep(2_000) }
        XCTAssert(victim.isRunning, "the shard ended before it could be killed")
        kill(victim.processIdentifier, SIGKILL)
        victim.waitUntilExit()

        // The four shards at once, as the Job's pods: the killed one resumes.
        let runs = try (0..<4).map { k -> Process in
            let process = Process()
            process.executableURL = executable
            process.arguments = arguments(shardOut[k]) + ["--shards", "4", "--threads", "1"] + (k == killed ? ["--resume"] : [])
            process.environment = ProcessInfo.processInfo.environment.merging(["JOB_COMPLETION_INDEX": "\(k)"]) { $1 }
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            return process
        }
        addTeardownBlock { for process in runs where process.isRunning { process.terminate() } }
        for (k, process) in runs.enumerated() {
            process.waitUntilExit()
            XCTAssertEqual(process.terminationStatus, 0, "shard \(k)")
            let manifest = try XCTUnwrap(GalleryShardManifest.read(from: shardOut[k]))
            XCTAssertEqual(manifest.photos.count, sizes[k])
            XCTAssertEqual(try GalleryWriter.load(from: shardOut[k])?.images.count, sizes[k], "shard \(k) finished its photos")
        }

        let merged = work.appendingPathComponent("merged")
        let merge = try runExplain(["gallery", "merge", merged.path] + shardOut.map(\.path))
        XCTAssertEqual(merge.status, 0, merge.stderr)
        XCTAssert(merge.stdout.contains("12 photo(s) from 4 shard(s), 0 bad"), merge.stdout)

        XCTAssertEqual(try String(contentsOf: merged.appendingPathComponent(GalleryWriter.resultsCSV), encoding: .utf8),
                       try String(contentsOf: single.appendingPathComponent(GalleryWriter.resultsCSV), encoding: .utf8))
        func untimed(_ folder: URL) throws -> GalleryResults {
            var results = try XCTUnwrap(GalleryWriter.load(from: folder))
            for i in results.images.indices { for j in results.images[i].results.indices { results.images[i].results[j].elapsedMilliseconds = 0 } }
            return results
        }
        let expected = try untimed(single)
        XCTAssertEqual(try untimed(merged), expected)
        for image in expected.images {
            for file in [image.panelFile!] + image.results.map(\.overlayFile) {
                XCTAssertEqual(try Data(contentsOf: merged.appendingPathComponent(file)), try Data(contentsOf: single.appendingPathComponent(file)),
                               "\(file) differs from the single run's")
            }
        }
        _ = try GalleryTests.checkLinks(merged)

        // A shard made with another method is refused, by name, and nothing is merged.
        let other = work.appendingPathComponent("other")
        let odd = try runExplain(arguments(other) + ["--shard", "\(killed)/4", "--method", "layercam"])
        XCTAssertEqual(odd.status, 0, odd.stderr)
        let refused = try runExplain(["gallery", "merge", work.appendingPathComponent("refused").path]
                                     + shardOut.enumerated().map { $0.offset == killed ? other.path : $0.element.path })
        XCTAssertNotEqual(refused.status, 0)
        XCTAssert(refused.stderr.contains("different methods") && refused.stderr.contains(other.path)
                  && refused.stderr.contains("(layercam)"), refused.stderr)
    }
}
