import ArgumentParser
import CAMKit
import Foundation

/// `--shard K/N` or `--shards N`: the part of a gallery this process explains, for batch systems
/// that start one process per part (see `GalleryShard`).
struct ShardOption: ParsableArguments {
    @Option(help: ArgumentHelp("Explain only shard K (from 0) of N; merge the shards with `explain gallery merge`.", valueName: "K/N"))
    var shard: String?

    @Option(help: ArgumentHelp("Split the run into N shards and explain the one named by JOB_COMPLETION_INDEX (Kubernetes Indexed Job) "
                               + "or SLURM_ARRAY_TASK_ID (Slurm job array).", valueName: "N"))
    var shards: Int?

    func validate() throws {
        if shard != nil && shards != nil { throw ValidationError("use either --shard K/N or --shards N, not both") }
        if let shard { _ = try GalleryShard(parsing: shard) }
        if let shards, shards < 1 { throw ValidationError("--shards \(shards): at least 1 shard") }
    }

    /// The shard asked for, nil for a whole run.
    func resolve(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> GalleryShard? {
        if let shard { return try GalleryShard(parsing: shard) }
        return try shards.map { try GalleryShard(count: $0, environment: environment) }
    }

    /// The loaded models with the SHA-256 of the weights each was read from.
    static func identities(of models: [ExplainableModel], in selection: ModelSelection) throws -> [GalleryModelIdentity] {
        let descriptors = try selection.catalog.catalog().select(selection.models).available
        return try models.map { model in
            guard let descriptor = descriptors.first(where: { $0.name == model.name }) else {
                throw RunError("model \(model.name) is not in the catalog")
            }
            return GalleryModelIdentity(name: model.name, weightsSHA256: try FileDigest.sha256(of: descriptor.weightsURL))
        }
    }
}
