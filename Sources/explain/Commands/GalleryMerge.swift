import ArgumentParser
import CAMKit
import Foundation

/// `explain gallery merge OUT SHARD_DIR...`: one gallery from the shards of a run.
struct GalleryMergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge the folders of gallery shards (--shard K/N) into one gallery, without explaining anything again.",
        discussion: """
            OUT gets index.html, results.csv, results.json, the charts and images/, as one run over every photo writes them. \
            The shards must have run the same models with the same weights (by SHA-256), method, layer, target and metrics over the \
            same input; otherwise nothing is written and the shards that differ are named. Photos a shard did not finish, \
            shards not given and photos two shards hold are listed on stderr, and make the exit status 1 (the gallery \
            of the rest is written).
            """)

    @Argument(help: ArgumentHelp("The merged gallery's folder (created if missing).", valueName: "out"))
    var out: String

    @Argument(help: ArgumentHelp("The shards' --out folders.", valueName: "shard-dir"))
    var shardFolders: [String]

    func validate() throws {
        if shardFolders.isEmpty { throw ValidationError("name the shard folders to merge") }
    }

    func run() throws {
        let report = try GalleryMerge.merge(shardFolders.map { URL(fileURLWithPath: $0, isDirectory: true) },
                                            into: URL(fileURLWithPath: out, isDirectory: true))
        let images = report.results.images
        print("\(URL(fileURLWithPath: out).appendingPathComponent(GalleryWriter.index).path): \(images.count) photo(s) from "
              + "\(shardFolders.count) shard(s), \(report.results.badImages.count) bad")
        printMetricMeans(report.results)
        for shard in report.absentShards { printError("missing: shard \(shard) was not given; its photos are not in the gallery") }
        for source in report.missing { printError("missing: \(source): its shard did not finish it (run the shard again with --resume)") }
        for duplicate in report.duplicates { printError("present twice: \(duplicate); kept from the first") }
        for image in report.results.badImages { printError("error: \(image.source): \(image.error ?? "")") }
        if !report.isComplete || !report.results.badImages.isEmpty { throw ExitCode(1) }
    }
}
