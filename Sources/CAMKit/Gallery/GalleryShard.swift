import Foundation

/// Which part of a gallery one process explains, for runs spread over machines by a batch
/// system (Kubernetes Indexed Jobs, Slurm job arrays, GNU parallel): shard `index` of `count`,
/// counted from 0.
///
/// A photo belongs to the shard its key's stable hash names, whatever else is in the folder,
/// so a re-run or a `--resume` of one shard never moves a photo to another, and adding photos
/// to the folder moves none of the others.
public struct GalleryShard: Codable, Equatable, Sendable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    public init(index: Int, count: Int) throws {
        guard count >= 1 else { throw GalleryError.invalidSetting("shard count \(count): at least 1 shard") }
        guard (0..<count).contains(index) else {
            throw GalleryError.invalidSetting("shard \(index) of \(count): shards are numbered 0 to \(count - 1)")
        }
        self.index = index
        self.count = count
    }

    /// `K/N`, as `--shard` takes it.
    public init(parsing text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]) else {
            throw GalleryError.invalidSetting("shard '\(text)': write K/N, shard K (from 0) of N")
        }
        try self.init(index: index, count: count)
    }

    /// Shard `index` of `count`, the index as the batch system gives it to each task:
    /// `JOB_COMPLETION_INDEX` (a Kubernetes Indexed Job), else `SLURM_ARRAY_TASK_ID` counted
    /// from `SLURM_ARRAY_TASK_MIN` (so `--array=1-8` works as `0-7`), checked against
    /// `SLURM_ARRAY_TASK_COUNT`.
    public init(count: Int, environment: [String: String]) throws {
        func number(_ name: String) throws -> Int? {
            guard let text = environment[name] else { return nil }
            guard let value = Int(text.trimmingCharacters(in: .whitespaces)) else {
                throw GalleryError.invalidSetting("\(name)='\(text)' is not a number")
            }
            return value
        }
        if let index = try number("JOB_COMPLETION_INDEX") {
            try self.init(index: index, count: count)
        } else if let task = try number("SLURM_ARRAY_TASK_ID") {
            if let tasks = try number("SLURM_ARRAY_TASK_COUNT"), tasks != count {
                throw GalleryError.invalidSetting("--shards \(count) but the Slurm array has SLURM_ARRAY_TASK_COUNT=\(tasks) tasks")
            }
            let index = task - (try number("SLURM_ARRAY_TASK_MIN") ?? 0)
            guard (0..<count).contains(index) else {
                throw GalleryError.invalidSetting("SLURM_ARRAY_TASK_ID=\(task) is not one of \(count) consecutive tasks: "
                                                  + "give the array as --array=0-\(count - 1) (no step)")
            }
            try self.init(index: index, count: count)
        } else {
            throw GalleryError.invalidSetting("--shards \(count) needs the shard's index from JOB_COMPLETION_INDEX (Kubernetes) "
                                              + "or SLURM_ARRAY_TASK_ID (Slurm); neither is set: give --shard K/\(count) instead")
        }
    }

    public var description: String { "\(index)/\(count)" }

    /// What a photo is assigned by: its file name, which is its path relative to the folder it
    /// was found in (folders are read one level deep) and the `file` column of a labels manifest.
    /// Where the folder is mounted does not matter.
    public static func key(of photo: URL) -> String { photo.lastPathComponent }

    /// 64-bit FNV-1a of the key's UTF-8: fixed by the bytes alone (Swift's `Hasher` is seeded
    /// anew in every process), and spread evenly enough over shards.
    public static func stableHash(_ key: String) -> UInt64 {
        key.utf8.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x0000_0100_0000_01b3 }
    }

    public func owns(_ photo: URL) -> Bool {
        Self.stableHash(Self.key(of: photo)) % UInt64(count) == UInt64(index)
    }
}
