import Foundation

/// The external data files of one model. A tensor with `data_location == EXTERNAL` names a
/// file beside the model (`location`), where its bytes start (`offset`, default 0) and how
/// many there are (`length`, default: up to the end of the file).
///
/// A model downloaded from anywhere must not make CAMKit read anything but its own files, so
/// a location is refused when it is absolute, when its `..` components climb out of the
/// model's folder, or when its real path (symbolic links resolved) lies outside the folder's
/// real path. As onnx does, a file with more than one hard link is refused too: a hard link
/// placed in the folder can be another name of any file on the same disk. The file must be
/// a regular file, and offset and length must lie inside it before a byte is read. Each file
/// is opened once and only the tensors' slices are read from it.
final class ONNXExternalData {
    private let model: URL
    /// Open files by real path.
    private var files: [String: OpenFile] = [:]

    private struct OpenFile {
        let descriptor: Int32
        let size: Int
    }

    init(model: URL) {
        self.model = model
    }

    deinit {
        for file in files.values { close(file.descriptor) }
    }

    private func error(_ problem: String) -> ONNXError { ONNXError(model, problem) }

    /// The `byteCount` bytes that a tensor's `external_data` entries point at. `label` names
    /// the tensor in messages.
    func bytes(_ entries: [Onnx_StringStringEntryProto], byteCount: Int, of label: String) throws -> Data {
        var values: [String: String] = [:]
        for entry in entries {
            guard values.updateValue(entry.value, forKey: entry.key) == nil else {
                throw error("\(label) gives the external data key '\(entry.key)' twice")
            }
        }
        // `checksum` is not verified (onnx does not either: it would mean reading the whole
        // file); `basepath` and unknown keys are ignored, as onnx does.
        guard let location = values["location"] else { throw error("\(label) has external data without a location") }
        let offset = try values["offset"].map { try number($0, key: "offset", of: label) } ?? 0
        let length = try values["length"].map { try number($0, key: "length", of: label) }
        let file = try openFile(location, of: label)
        let named = "'\(location)' (\(file.size) bytes)"
        guard offset <= file.size else {
            throw error("\(label): its external data starts at offset \(offset), past the end of \(named)")
        }
        let available = file.size - offset
        guard length ?? available <= available else {
            throw error("\(label): its external data at offset \(offset) with length \(length ?? available) runs past the end of \(named)")
        }
        guard (length ?? available) == byteCount else {
            throw error("\(label) needs \(byteCount) bytes, but its external data in \(named) at offset \(offset) is \(length ?? available) bytes long")
        }
        return try read(file, offset: offset, count: byteCount, location: location, label: label)
    }

    /// Offsets and lengths are decimal integers written as strings.
    private func number(_ text: String, key: String, of label: String) throws -> Int {
        guard !text.isEmpty, text.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
              let value = Int(text) else {
            throw error("\(label) has external data \(key) '\(text)', not a non-negative integer that fits 64 bits")
        }
        return value
    }

    private func openFile(_ location: String, of label: String) throws -> OpenFile {
        let quoted = "external data location '\(location)' of \(label)"
        guard !location.isEmpty, !location.utf8.contains(0) else { throw error("the \(quoted) is empty or holds a NUL byte") }
        guard !location.hasPrefix("/") else {
            throw error("the \(quoted) is an absolute path; it must be relative to the model's folder")
        }
        var depth = 0
        for component in location.split(separator: "/") where component != "." {
            depth += component == ".." ? -1 : 1
            guard depth >= 0 else { throw error("the \(quoted) climbs out of the model's folder") }
        }
        let folderPath = model.deletingLastPathComponent().path
        guard let folder = Self.realPath(folderPath) else { throw error("cannot resolve the model's folder \(folderPath)") }
        guard let real = Self.realPath(folder + "/" + location) else {
            throw error("the \(quoted) names no readable file in \(folder): \(String(cString: strerror(errno)))")
        }
        // Bytes, not String.hasPrefix, which compares canonically equivalent Unicode as equal.
        let prefix = folder.hasSuffix("/") ? folder : folder + "/"
        guard real.utf8.starts(with: prefix.utf8) else {
            throw error("the \(quoted) resolves to \(real), outside the model's folder \(folder)")
        }
        if let file = files[real] { return file }
        // O_NONBLOCK: opening a FIFO must not wait for a writer; regular files ignore it.
        let descriptor = open(real, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { throw error("cannot open the \(quoted): \(String(cString: strerror(errno)))") }
        var info = stat()
        guard fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            close(descriptor)
            throw error("the \(quoted) is not a regular file")
        }
        guard info.st_nlink <= 1 else {
            close(descriptor)
            throw error("the \(quoted) is a file with \(info.st_nlink) hard links, which could reach outside the model's folder")
        }
        let file = OpenFile(descriptor: descriptor, size: Int(info.st_size))
        files[real] = file
        return file
    }

    private func read(_ file: OpenFile, offset: Int, count: Int, location: String, label: String) throws -> Data {
        var data = Data(count: count)
        let done = data.withUnsafeMutableBytes { buffer -> Int in
            guard let base = buffer.baseAddress else { return 0 }
            var done = 0
            while done < count {
                let n = pread(file.descriptor, base + done, count - done, off_t(offset + done))
                if n < 0, errno == EINTR { continue }
                guard n > 0 else { break }
                done += n
            }
            return done
        }
        guard done == count else {
            throw error("\(label): only \(done) of the \(count) bytes at offset \(offset) of '\(location)' could be read")
        }
        return data
    }

    /// The path with every symbolic link, `.` and `..` resolved, or nil if it does not exist.
    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
