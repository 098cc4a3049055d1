import Foundation

/// Why shards cannot be merged, naming them.
public struct GalleryMergeError: Error, CustomStringConvertible, Equatable {
    public let description: String
}

/// What a merge put together and what it found wanting.
public struct GalleryMergeReport: Sendable {
    public var results: GalleryResults
    /// Photos a shard was given and did not finish (killed and not resumed), by source path.
    public var missing: [String]
    /// Shards of the run that were not among the folders merged: their photos are not listed.
    public var absentShards: [GalleryShard]
    /// Photos that two shards both hold (kept once, from the first shard named).
    public var duplicates: [String]

    public var isComplete: Bool { missing.isEmpty && absentShards.isEmpty && duplicates.isEmpty }
}

/// `explain gallery merge`: one gallery from the folders of the shards of a run (each made by
/// `explain gallery --shard`), without explaining anything again. The shards must have run the
/// same models with the same weights (by SHA-256), method, layer, target and metrics over the
/// same input, and each must be given once. Photos go in the order of the whole input, and their
/// folders get the names a single run gives them, so `results.csv` and the pictures are those of
/// a single run; the page, `results.json` and the charts are written by `GalleryWriter`, as a run
/// writes them. Pictures are hard-linked from the shards (copied across filesystems).
public enum GalleryMerge {
    struct Shard {
        let folder: URL
        let manifest: GalleryShardManifest
        let results: GalleryResults
    }

    public static func merge(_ folders: [URL], into output: URL) throws -> GalleryMergeReport {
        guard !folders.isEmpty else { throw GalleryMergeError(description: "name the shard folders to merge") }
        let outputPath = output.standardizedFileURL.path
        if let clash = folders.first(where: { $0.standardizedFileURL.path == outputPath }) {
            throw GalleryMergeError(description: "\(clash.path) is both a shard and the output: merge into another folder")
        }
        let shards = try folders.map(load)
        try checkAlike(shards)

        let given = Set(shards.map(\.manifest.shard.index))
        let count = shards[0].manifest.shard.count
        let absent = try (0..<count).filter { !given.contains($0) }.map { try GalleryShard(index: $0, count: count) }

        var byPosition: [Int: (image: GalleryImageResult, shard: Shard)] = [:]
        var duplicates: [String] = []
        for shard in shards {
            let positions = Dictionary(shard.manifest.photos.map { ($0.source, $0.position) }, uniquingKeysWith: { first, _ in first })
            for image in shard.results.images {
                guard let position = positions[image.source] else {
                    throw GalleryMergeError(description: "\(shard.folder.path) holds results for \(image.source), which its "
                                            + "\(GalleryShardManifest.fileName) does not give it: the folder mixes two runs; run that shard again without --resume")
                }
                if let first = byPosition[position] {
                    duplicates.append("\(image.source) (in \(first.shard.folder.path) and \(shard.folder.path))")
                } else {
                    byPosition[position] = (image, shard)
                }
            }
        }
        let missing = shards.flatMap { shard in shard.manifest.photos.filter { byPosition[$0.position] == nil }.map(\.source) }

        var results = GalleryResults(models: shards[0].manifest.models.map(\.name), method: shards[0].manifest.method,
                                     layer: shards[0].manifest.layer, target: shards[0].manifest.target, metrics: shards[0].manifest.metrics)
        var taken = Set<String>()
        for position in byPosition.keys.sorted() {
            let (image, shard) = byPosition[position]!
            let folder = GalleryRun.uniqueFolder(for: image.file, taken: &taken)
            results.images.append(try place(image, from: shard.folder, as: folder, in: output))
        }
        let writer = try GalleryWriter(folder: output, starting: results, pending: 0)
        try writer.finish(results)
        return GalleryMergeReport(results: results, missing: missing, absentShards: absent, duplicates: duplicates)
    }

    /// A shard's manifest and results (the journal of a shard still running or killed, else
    /// `results.json`).
    static func load(_ folder: URL) throws -> Shard {
        guard let manifest = try GalleryShardManifest.read(from: folder) else {
            throw GalleryMergeError(description: "\(folder.path) is not a gallery shard: it has no \(GalleryShardManifest.fileName) "
                                    + "(made by `explain gallery --shard K/N` or `--shards N`)")
        }
        let results = try GalleryWriter.load(from: folder)
            ?? GalleryResults(models: manifest.models.map(\.name), method: manifest.method, layer: manifest.layer, target: manifest.target,
                              metrics: manifest.metrics)
        guard results.models == manifest.models.map(\.name), results.method == manifest.method, results.layer == manifest.layer,
              results.target == manifest.target, GalleryMetricSet.name(recorded: results.metrics) == GalleryMetricSet.name(recorded: manifest.metrics) else {
            throw GalleryMergeError(description: "\(folder.path): its results were made with other settings than its "
                                    + "\(GalleryShardManifest.fileName) records; run that shard again without --resume")
        }
        return Shard(folder: folder, manifest: manifest, results: results)
    }

    /// Refuses shards of different runs, naming every shard that differs from the first.
    static func checkAlike(_ shards: [Shard]) throws {
        var seen: [Int: URL] = [:]
        for shard in shards {
            if let other = seen[shard.manifest.shard.index] {
                throw GalleryMergeError(description: "shard \(shard.manifest.shard) is given twice: \(other.path) and \(shard.folder.path)")
            }
            seen[shard.manifest.shard.index] = shard.folder
        }
        let first = shards[0]
        func differ(_ what: String, _ value: (GalleryShardManifest) -> String) throws {
            let odd = shards.filter { value($0.manifest) != value(first.manifest) }
            guard !odd.isEmpty else { return }
            let list = ([first] + odd).map { "\($0.folder.path) (\(value($0.manifest)))" }.joined(separator: ", ")
            throw GalleryMergeError(description: "cannot merge shards made with different \(what): \(list)")
        }
        try differ("shard counts") { "\($0.shard.count) shards" }
        try differ("models") { $0.models.map(\.name).joined(separator: ", ") }
        for (n, model) in first.manifest.models.enumerated() {
            try differ("weights for \(model.name)") { "sha256 \($0.models[n].weightsSHA256)" }
        }
        try differ("methods") { $0.method }
        try differ("layers") { $0.layer ?? "each model's default layer" }
        try differ("targets") { $0.target }
        try differ("metrics") { GalleryMetricSet.name(recorded: $0.metrics) }
        try differ("inputs") { "\($0.totalPhotos) photos in all" }
    }

    /// The photo's record with its pictures moved to `folder` of `output`: linked there from the
    /// shard, or copied where a link cannot be made.
    static func place(_ image: GalleryImageResult, from shard: URL, as folder: String, in output: URL) throws -> GalleryImageResult {
        var placed = image
        placed.folder = folder
        func move(_ file: String) throws -> String {
            // Only files inside the shard: a results file naming `..` could link anything into the gallery.
            guard file.hasPrefix(image.folder + "/"), !file.split(separator: "/").contains(".."), !file.hasPrefix("/") else {
                throw GalleryMergeError(description: "\(shard.path): \(file) is not a file of the photo's folder \(image.folder)")
            }
            let renamed = folder + file.dropFirst(image.folder.count)
            let source = shard.appendingPathComponent(file), target = output.appendingPathComponent(renamed)
            let manager = FileManager.default
            do {
                try manager.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
                if manager.fileExists(atPath: target.path) { try manager.removeItem(at: target) }
                do { try manager.linkItem(at: source, to: target) } catch { try manager.copyItem(at: source, to: target) }
            } catch {
                throw GalleryError.unwritable("\(target.path) from \(source.path): \(error.localizedDescription)")
            }
            return renamed
        }
        placed.panelFile = try image.panelFile.map(move)
        for n in placed.results.indices {
            placed.results[n].overlayFile = try move(image.results[n].overlayFile)
        }
        return placed
    }
}
