import Foundation

/// Replaces a file all at once: the bytes go to a hidden temporary file next to it, which is
/// then renamed over it. A reader (or a run killed halfway) sees the old file or the new one,
/// never a mix. Kill-safe, not power-loss-safe: nothing is synced to disk, which would cost
/// every photo a disk flush.
public enum AtomicFile {
    /// The temporary files' suffix, to find the ones a kill left behind.
    public static let temporarySuffix = ".partial"

    public static func write(_ data: Data, to url: URL) throws {
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString)\(temporarySuffix)")
        do {
            try data.write(to: temporary)
        } catch {
            throw GalleryError.unwritable("\(url.path): \(error.localizedDescription)")
        }
        guard rename(temporary.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw GalleryError.unwritable("\(url.path): \(reason)")
        }
    }

    /// Removes the temporary files that killed writes left in `folder` (not in its subfolders).
    public static func removeLeftovers(in folder: URL) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        for name in names where name.hasPrefix(".") && name.hasSuffix(temporarySuffix) {
            try? FileManager.default.removeItem(at: folder.appendingPathComponent(name))
        }
    }
}
