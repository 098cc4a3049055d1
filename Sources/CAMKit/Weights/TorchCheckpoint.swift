import Foundation
import ZIPFoundation

/// PyTorch's `torch.save` format (PyTorch ≥ 1.6): a zip archive holding `<top>/data.pkl`, the
/// pickled object, and `<top>/data/<key>`, one raw little-endian file per storage.
///
/// The pickle is read with `Unpickler`, which refuses every global outside a short allow-list,
/// so loading a hostile checkpoint can fail but can never run code. Storage sizes and every
/// tensor's offset, size and stride are checked against the archive before bytes are read.
public enum TorchCheckpoint {
    /// Keys under which training scripts commonly nest the model's state dict.
    static let wrapperKeys = ["state_dict", "model_state_dict", "model"]

    public static func read(contentsOf url: URL) throws -> StateDict {
        let attributes = try? FileManager.default.attributesOfItem(atPath: url.path)
        guard let size = attributes?[.size] as? NSNumber else {
            throw WeightsError.unreadable(file: url, reason: "no such file or not readable")
        }
        guard size.intValue > 0 else { throw WeightsError.emptyFile(file: url) }
        let fileSize = size.uint64Value

        if TorchCheckpoint.isLegacy(url) { return try readLegacy(contentsOf: url) }
        try ZIP64Check.check(url)
        let archive: Archive
        do {
            archive = try Archive(url: url, accessMode: .read)
        } catch {
            throw WeightsError.notATorchCheckpoint(file: url, detail: notZipDetail(url))
        }

        // The top folder is the file's stem at save time ("archive" for recent versions); find
        // the one data.pkl at depth one rather than guessing it.
        let pickles = archive.filter { entry in
            let parts = entry.path.split(separator: "/", omittingEmptySubsequences: false)
            return parts.count == 2 && parts[1] == "data.pkl" && entry.type == .file
        }
        guard pickles.count == 1, let pickleEntry = pickles.first else {
            throw WeightsError.notATorchCheckpoint(file: url, detail: pickles.isEmpty
                ? "the zip archive has no <folder>/data.pkl"
                : "the zip archive has \(pickles.count) data.pkl files")
        }
        let top = String(pickleEntry.path.dropLast("/data.pkl".count))

        if let byteorder = archive["\(top)/byteorder"] {
            let order = String(decoding: try extract(byteorder, from: archive, file: url, fileSize: fileSize, limit: 16), as: UTF8.self)
            guard order.trimmingCharacters(in: .whitespacesAndNewlines) == "little" else {
                throw WeightsError.unsupported(file: url, detail: "byte order '\(order)': only little-endian checkpoints are read")
            }
        }

        let pickleBytes = try extract(pickleEntry, from: archive, file: url, fileSize: fileSize, limit: 1 << 30)
        let unpickled = try Unpickler.load(pickleBytes, file: url)
        let refs = try withExtendedLifetime(unpickled) { try findStateDict(unpickled.root, file: url) }

        var storages: [String: [UInt8]] = [:]
        var pairs: [(String, Tensor)] = []
        for (key, ref) in refs where !StateDict.isIgnorable(key) {
            guard let format = ref.storage.dtype.format else {
                throw WeightsError.unsupportedDType(file: url, key: key, dtype: "torch.\(ref.storage.dtype.storageName)")
            }
            let storage: [UInt8]
            if let cached = storages[ref.storage.key] {
                // Another tensor named this storage first; this one must agree on its size, or
                // it could claim more elements (or wider ones) than the bytes hold.
                let (expected, overflow) = ref.storage.numel.multipliedReportingOverflow(by: ref.storage.dtype.itemSize)
                guard !overflow, cached.count == expected else {
                    throw WeightsError.badTensor(file: url, key: key, detail: "storage \(ref.storage.key) holds \(cached.count) bytes, but this tensor declares it as \(ref.storage.numel) elements of torch.\(ref.storage.dtype.storageName)")
                }
                storage = cached
            } else {
                storage = try readStorage(ref.storage, tensorKey: key, top: top, archive: archive, file: url, fileSize: fileSize)
                storages[ref.storage.key] = storage
            }
            pairs.append((key, try materialise(ref, key: key, format: format, storage: storage, file: url)))
        }
        return StateDict(pairs, source: url)
    }

    // MARK: - Structure

    /// A dict whose keys are all strings and whose values are all tensors.
    private static func tensorDict(_ value: PickleValue) -> [(String, TensorRef)]? {
        guard case let .dict(dict) = value, !dict.entries.isEmpty else { return nil }
        var result: [(String, TensorRef)] = []
        for (k, v) in dict.entries {
            guard case let .string(key) = k, case let .tensor(ref) = v else { return nil }
            result.append((key, ref))
        }
        return result
    }

    /// The state dict itself, the one nested under a conventional key of a training checkpoint
    /// (whose other entries — epoch, optimizer, … — are ignored), or else the only one under
    /// any key (`{'base_model': …}`).
    static func findStateDict(_ root: PickleValue, file: URL?) throws -> [(String, TensorRef)] {
        if let refs = tensorDict(root) { return refs }
        guard case let .dict(dict) = root else {
            throw WeightsError.noStateDict(file: file, detail: "the checkpoint holds a \(root.typeName), not a dict of tensors")
        }
        for key in wrapperKeys {
            if let nested = dict[key], let refs = tensorDict(nested) { return refs }
        }
        let found = dict.entries.compactMap { entry in
            tensorDict(entry.value).flatMap { $0.isEmpty ? nil : (key: entry.key, refs: $0) }
        }
        if found.count == 1 { return found[0].refs }
        if found.count > 1 {
            throw WeightsError.noStateDict(file: file, detail: "the top-level dict holds \(found.count) state dicts, under \(listed(found.map(\.key), total: found.count)); save the one to explain on its own")
        }
        throw WeightsError.noStateDict(file: file, detail: "the top-level dict (keys: \(listed(dict.entries.map(\.key), total: dict.entries.count))) holds no dict of tensors")
    }

    /// At most ten keys, each cut to 40 characters: a hostile dict can have millions.
    private static func listed(_ keys: [PickleValue], total: Int) -> String {
        let names = keys.prefix(10).map { key -> String in
            if case let .string(s) = key { return s.count > 40 ? s.prefix(40) + "…" : s }
            return key.typeName
        }
        return names.joined(separator: ", ") + (total > 10 ? ", … \(total) in all" : "")
    }

    // MARK: - Bytes

    private static func readStorage(_ storage: StorageRef, tensorKey: String, top: String, archive: Archive, file: URL, fileSize: UInt64) throws -> [UInt8] {
        let path = "\(top)/data/\(storage.key)"
        guard let entry = archive[path] else {
            throw WeightsError.badTensor(file: file, key: tensorKey, detail: "its storage \(path) is missing from the archive")
        }
        let (expected, overflow) = storage.numel.multipliedReportingOverflow(by: storage.dtype.itemSize)
        guard !overflow, entry.uncompressedSize == UInt64(expected) else {
            throw WeightsError.badTensor(file: file, key: tensorKey, detail: "storage \(path) holds \(entry.uncompressedSize) bytes, but the pickle declares \(storage.numel) elements of torch.\(storage.dtype.storageName) (\(overflow ? "too many" : String(expected)) bytes)")
        }
        return try extract(entry, from: archive, file: file, fileSize: fileSize, limit: expected)
    }

    /// Reads a whole entry, refusing one that declares or yields more than `limit` bytes,
    /// and checking its CRC so that a damaged archive is reported rather than loaded.
    ///
    /// Only stored entries are read, as `torch.save` writes them: their declared size can be
    /// checked against the file before anything is allocated, while a deflated entry's cannot,
    /// and ZIPFoundation's inflater never returns from a deflate stream that does not end.
    static func extract(_ entry: Entry, from archive: Archive, file: URL, fileSize: UInt64, limit: Int) throws -> [UInt8] {
        guard entry.uncompressedSize <= UInt64(limit) else {
            throw WeightsError.unsupported(file: file, detail: "\(entry.path) declares \(entry.uncompressedSize) bytes, more than the \(limit) accepted")
        }
        guard !entry.isCompressed else {
            throw WeightsError.unsupported(file: file, detail: "\(entry.path) is compressed; torch.save stores every entry uncompressed, so save the checkpoint again with torch.save")
        }
        guard entry.compressedSize == entry.uncompressedSize else {
            throw WeightsError.truncated(file: file, detail: "\(entry.path) is stored uncompressed but declares \(entry.uncompressedSize) bytes and \(entry.compressedSize) stored bytes")
        }
        guard entry.uncompressedSize <= fileSize else {
            throw WeightsError.truncated(file: file, detail: "\(entry.path) declares \(entry.uncompressedSize) bytes, more than the \(fileSize)-byte file holds")
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(entry.uncompressedSize))
        do {
            let checksum = try archive.extract(entry) { chunk in
                guard bytes.count + chunk.count <= limit else { throw CocoaError(.fileReadTooLarge) }
                bytes.append(contentsOf: chunk)
            }
            guard checksum == entry.checksum else {
                throw WeightsError.truncated(file: file, detail: "\(entry.path) does not match its checksum")
            }
        } catch let error as WeightsError {
            throw error
        } catch {
            throw WeightsError.truncated(file: file, detail: "\(entry.path) cannot be extracted (\(error))")
        }
        guard bytes.count == Int(entry.uncompressedSize) else {
            throw WeightsError.truncated(file: file, detail: "\(entry.path) holds \(bytes.count) of its \(entry.uncompressedSize) bytes")
        }
        return bytes
    }

    /// Copies a strided view out of its storage in row-major order. Non-contiguous views
    /// (a transposed weight saved as is) are read element by element; the bounds of the
    /// farthest element are checked first.
    static func materialise(_ ref: TensorRef, key: String, format: ElementFormat, storage: [UInt8], file: URL) throws -> Tensor {
        let size = ref.size, stride = ref.stride
        guard size.count == stride.count else {
            throw WeightsError.badTensor(file: file, key: key, detail: "size \(size) and stride \(stride) differ in length")
        }
        guard ref.offset >= 0 else {
            throw WeightsError.badTensor(file: file, key: key, detail: "storage offset \(ref.offset) is negative")
        }
        guard size.allSatisfy({ $0 >= 0 }) else {
            throw WeightsError.badTensor(file: file, key: key, detail: "size \(size) has a negative dimension")
        }
        guard stride.allSatisfy({ $0 >= 0 }) else {
            throw WeightsError.badTensor(file: file, key: key, detail: "stride \(stride) is negative, which PyTorch never saves")
        }
        var numel = 1
        var last = ref.offset
        for (d, s) in zip(size, stride) {
            let (n, o1) = numel.multipliedReportingOverflow(by: d)
            numel = n
            let (reach, o2) = max(d - 1, 0).multipliedReportingOverflow(by: s)
            let (sum, o3) = last.addingReportingOverflow(reach)
            last = sum
            if o1 || o2 || o3 {
                throw WeightsError.badTensor(file: file, key: key, detail: "size \(size) with stride \(stride) overflows")
            }
        }
        if numel > 0 && (last >= ref.storage.numel || (last + 1) * format.itemSize > storage.count) {
            throw WeightsError.badTensor(file: file, key: key, detail: "offset \(ref.offset), size \(size), stride \(stride) reach element \(last) of a \(ref.storage.numel)-element storage")
        }
        // A zero stride repeats elements, so a view could claim terabytes from a few bytes;
        // no state dict needs more elements than its storage holds, so the tensor allocated
        // is never larger than the bytes in the file.
        if numel > ref.storage.numel {
            throw WeightsError.badTensor(file: file, key: key, detail: "size \(size) with stride \(stride) has \(numel) elements, more than the \(ref.storage.numel) of its storage")
        }

        return storage.withUnsafeBytes { raw in
            Tensor(shape: size) { out in
                guard numel > 0 else { return }
                if isContiguous(size: size, stride: stride) {
                    let itemSize = format.itemSize
                    let bytes = UnsafeRawBufferPointer(rebasing: raw[(ref.offset * itemSize)..<((ref.offset + numel) * itemSize)])
                    ElementDecoding.decode(bytes, as: format, into: out)
                    return
                }
                var index = [Int](repeating: 0, count: size.count)
                var source = ref.offset
                for i in 0..<numel {
                    out[i] = ElementDecoding.element(raw, at: source, as: format)
                    // Odometer increment over the row-major index, tracking the storage position.
                    var axis = size.count - 1
                    while axis >= 0 {
                        index[axis] += 1
                        source += stride[axis]
                        if index[axis] < size[axis] { break }
                        source -= stride[axis] * size[axis]
                        index[axis] = 0
                        axis -= 1
                    }
                }
            }
        }
    }

    /// Row-major contiguity, ignoring the stride of size-1 axes (which PyTorch leaves arbitrary).
    private static func isContiguous(size: [Int], stride: [Int]) -> Bool {
        var expected = 1
        for (d, s) in zip(size, stride).reversed() where d != 1 {
            if s != expected { return false }
            expected *= d
        }
        return true
    }

    private static func notZipDetail(_ url: URL) -> String {
        let head = (try? FileHandle(forReadingFrom: url)).flatMap { handle -> Data? in
            defer { try? handle.close() }
            return try? handle.read(upToCount: 2)
        }
        if let head, head.first == 0x80 {
            return "not a zip archive, and not the legacy torch.save format either (a bare pickle?)"
        }
        return "not a zip archive"
    }
}
