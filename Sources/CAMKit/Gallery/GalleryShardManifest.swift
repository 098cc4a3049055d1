import Foundation

/// A model as a shard ran it: its name and the SHA-256 of its weights file, so that partials
/// explained with different weights under the same name are never merged.
public struct GalleryModelIdentity: Codable, Equatable, Sendable {
    public var name: String
    public var weightsSHA256: String

    public init(name: String, weightsSHA256: String) {
        self.name = name
        self.weightsSHA256 = weightsSHA256
    }

    enum CodingKeys: String, CodingKey { case name, weightsSHA256 = "weights_sha256" }
}

/// One photo a shard was given, with its place among all the photos of the run.
public struct GalleryShardPhoto: Codable, Equatable, Sendable {
    /// Its position in the whole input (what the merged gallery is ordered by).
    public var position: Int
    public var file: String
    /// The path as the shard read it (what its results name it by).
    public var source: String

    public init(position: Int, file: String, source: String) {
        self.position = position
        self.file = file
        self.source = source
    }
}

/// `shard.json`, written by a shard before it explains anything: which shard it is, what it
/// runs (models with their weights' hashes, method, layer, target, metrics) and every photo it was
/// given, finished or not. `explain gallery merge` reads it to order the photos, to name those
/// no shard finished, and to refuse partials that were not made alike.
public struct GalleryShardManifest: Codable, Equatable, Sendable {
    public static let fileName = "shard.json"
    public static let currentVersion = 1

    public var version = GalleryShardManifest.currentVersion
    public var shard: GalleryShard
    public var models: [GalleryModelIdentity]
    public var method: String
    public var layer: String?
    public var target: String
    /// The `--metrics` setting; nil in manifests made before there were metrics, which is `none`.
    public var metrics: String?
    /// Photos in the whole input, every shard's together.
    public var totalPhotos: Int
    public var photos: [GalleryShardPhoto]

    enum CodingKeys: String, CodingKey {
        case version, shard, models, method, layer, target, metrics, photos
        case totalPhotos = "total_photos"
    }

    /// The manifest of `shard` over `all` the photos of the run (in run order): it keeps the
    /// ones the shard owns, with their positions.
    public init(shard: GalleryShard, all: [URL], models: [GalleryModelIdentity], method: String, layer: String?, target: String,
                metrics: String? = nil) {
        self.shard = shard
        self.models = models
        self.method = method
        self.layer = layer
        self.target = target
        self.metrics = metrics
        totalPhotos = all.count
        photos = all.enumerated().filter { shard.owns($0.element) }
            .map { GalleryShardPhoto(position: $0.offset, file: $0.element.lastPathComponent, source: $0.element.path) }
    }

    /// The photos to explain in this shard, in run order.
    public var photoURLs: [URL] { photos.map { URL(fileURLWithPath: $0.source) } }

    /// Writes the manifest into `folder` (atomically). With `resume`, the folder must hold a
    /// manifest of the same shard and models: a resume never turns one shard into another.
    public func write(to folder: URL, resume: Bool) throws {
        if resume, let earlier = try Self.read(from: folder) {
            if earlier.shard != shard {
                throw GalleryError.resumeMismatch("\(folder.path) holds shard \(earlier.shard), this run is shard \(shard)")
            }
            if earlier.models != models {
                throw GalleryError.resumeMismatch("\(folder.path) was made with models \(Self.describe(earlier.models)), "
                                                  + "this run has \(Self.describe(models))")
            }
        }
        do { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) } catch {
            throw GalleryError.unwritable("\(folder.path): \(error.localizedDescription)")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(encoder.encode(self), to: folder.appendingPathComponent(Self.fileName))
    }

    /// The manifest in `folder`; nil when there is none.
    public static func read(from folder: URL) throws -> GalleryShardManifest? {
        let url = folder.appendingPathComponent(fileName)
        guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
        do { return try JSONDecoder().decode(GalleryShardManifest.self, from: data) } catch {
            throw GalleryError.unreadableResults("\(url.path) is not a gallery shard's manifest (\(error))")
        }
    }

    /// "a (sha256 1234abcd…), b (…)".
    static func describe(_ models: [GalleryModelIdentity]) -> String {
        models.map { "\($0.name) (sha256 \($0.weightsSHA256.prefix(12))…)" }.joined(separator: ", ")
    }
}
