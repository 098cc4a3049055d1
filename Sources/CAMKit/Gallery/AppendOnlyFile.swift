import Foundation

/// A file that, once created, only grows: each `append` adds whole lines with one write, so a
/// kill leaves every earlier line intact. The one thing a kill can leave is a partial last
/// line (the kernel may stop a write between two pages); readers drop a last line without
/// its line break.
final class AppendOnlyFile {
    let url: URL
    private let handle: FileHandle

    /// Creates (or replaces, atomically) the file with `initial` and opens it for appending.
    init(creating url: URL, with initial: Data) throws {
        self.url = url
        try AtomicFile.write(initial, to: url)
        do {
            handle = try FileHandle(forWritingTo: url)
            try handle.seekToEnd()
        } catch {
            throw GalleryError.unwritable("\(url.path): \(error.localizedDescription)")
        }
    }

    func append(_ data: Data) throws {
        do { try handle.write(contentsOf: data) } catch {
            throw GalleryError.unwritable("\(url.path): \(error.localizedDescription)")
        }
    }

    deinit { try? handle.close() }
}
