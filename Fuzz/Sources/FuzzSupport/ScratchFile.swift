import Foundation

/// A file rewritten with each input, for readers that take only a path. It lives in a
/// directory of this process's own under `TMPDIR` (scripts/fuzz.sh points that into
/// .build-fuzz), so parallel fuzzing jobs never share it.
public struct ScratchFile {
    public private(set) var url: URL
    private let name: String
    private var generation = 0

    /// `name` is the file's name in the directory; its extension can matter to a reader.
    public init(named name: String) {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("camkit-fuzz-\(ProcessInfo.processInfo.processIdentifier)")
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            fatalError("cannot create the scratch directory \(directory.path): \(error)")
        }
        self.name = name
        url = directory.appendingPathComponent(name)
    }

    /// Moves to a new name, deleting the old file: a name per input keeps inputs independent
    /// of anything a reader might cache by path, and crashes reproducible one by one.
    public mutating func advance() {
        unlink(url.path)
        generation += 1
        url = url.deletingLastPathComponent().appendingPathComponent("\(generation)-\(name)")
    }

    /// A file next to this one, for inputs that name their neighbours (a zoo file's labels).
    public func sibling(named name: String) -> URL {
        url.deletingLastPathComponent().appendingPathComponent(name)
    }

    /// Plain POSIX calls: `Data.write(to:)` fsyncs every file, which would cap a fuzzer at a
    /// few hundred inputs a second.
    public func write(_ data: Data) {
        let fd = open(url.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { fatalError("cannot open the scratch file \(url.path): errno \(errno)") }
        defer { close(fd) }
        data.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let n = Foundation.write(fd, raw.baseAddress! + done, raw.count - done)
                guard n > 0 else { fatalError("cannot write the scratch file \(url.path): errno \(errno)") }
                done += n
            }
        }
    }
}
