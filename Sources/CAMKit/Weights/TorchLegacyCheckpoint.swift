import Foundation

/// The `torch.save` format before PyTorch 1.6 (`_use_new_zipfile_serialization=False`), which
/// older checkpoints such as EfficientNet-Lite0's still use: five things back to back —
/// a pickled magic number, the protocol version (1001), a sys-info dict, the pickled object
/// (storages as persistent ids), a pickled list of storage keys — then, for each key in that
/// list's order, the element count as a little-endian int64 followed by the raw bytes.
///
/// The same restricted `Unpickler` reads every pickle, so nothing in the file can run code.
extension TorchCheckpoint {
    /// `pickle.dumps(0x1950a86a20f9469cfc6c, protocol=2)` without its STOP: the file's first bytes.
    static let legacyMagic: [UInt8] = [0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]

    static func isLegacy(_ url: URL) -> Bool {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return false }
        defer { try? handle.close() }
        guard let head = try? handle.read(upToCount: legacyMagic.count) else { return false }
        return Array(head) == legacyMagic
    }

    public static func readLegacy(contentsOf url: URL) throws -> StateDict {
        do {
            return try parseLegacy(url)
        } catch let WeightsError.badPickle(file, detail) {
            throw WeightsError.badPickle(file: file, detail: "legacy torch.save format (before PyTorch 1.6): \(detail)")
        } catch let WeightsError.truncated(file, detail) {
            throw WeightsError.truncated(file: file, detail: "legacy torch.save format (before PyTorch 1.6): \(detail)")
        }
    }

    private static func parseLegacy(_ url: URL) throws -> StateDict {
        let bytes: [UInt8]
        do { bytes = Array(try Data(contentsOf: url, options: .alwaysMapped)) } catch {
            throw WeightsError.unreadable(file: url, reason: error.localizedDescription)
        }
        guard bytes.starts(with: legacyMagic) else {
            throw WeightsError.notATorchCheckpoint(file: url, detail: "no legacy torch.save magic number")
        }
        var position = 0
        func next() throws -> Unpickled {
            let (value, end) = try Unpickler.load(bytes, from: position, file: url)
            position = end
            return value
        }
        _ = try next() // magic number
        let protocolVersion = try next()
        guard case .int(1001) = protocolVersion.root else {
            throw WeightsError.unsupported(file: url, detail: "legacy protocol version \(protocolVersion.root.typeName), expected 1001")
        }
        let sysInfo = try next()
        if case let .dict(info) = sysInfo.root, case .bool(false)? = info["little_endian"] {
            throw WeightsError.unsupported(file: url, detail: "big-endian checkpoint: only little-endian checkpoints are read")
        }
        let main = try next()
        let refs = try withExtendedLifetime(main) { try findStateDict(main.root, file: url) }
        let keyList = try next()
        guard case let .list(list) = keyList.root else {
            throw WeightsError.notATorchCheckpoint(file: url, detail: "the storage key list is a \(keyList.root.typeName)")
        }
        let storageKeys = try list.items.map { item -> String in
            guard case let .string(key) = item else { throw WeightsError.notATorchCheckpoint(file: url, detail: "a storage key is a \(item.typeName)") }
            return key
        }

        var declared: [String: StorageRef] = [:]
        for (_, ref) in refs { declared[ref.storage.key] = ref.storage }
        var storages: [String: [UInt8]] = [:]
        for key in storageKeys {
            guard position + 8 <= bytes.count else {
                throw WeightsError.truncated(file: url, detail: "storage \(key) has no element count at byte \(position)")
            }
            let count = bytes[position ..< position + 8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            position += 8
            guard let storage = declared[key] else {
                throw WeightsError.badTensor(file: url, key: key, detail: "storage \(key) is not used by any tensor of the state dict")
            }
            guard count == UInt64(storage.numel) else {
                throw WeightsError.badTensor(file: url, key: key, detail: "storage \(key) has \(count) elements in the file, but the pickle declares \(storage.numel)")
            }
            // Compared with what is left, never added to the position: a count near 2^62
            // would overflow the sum.
            let (length, overflow) = storage.numel.multipliedReportingOverflow(by: storage.dtype.itemSize)
            guard !overflow, length <= bytes.count - position else {
                throw WeightsError.truncated(file: url, detail: "storage \(key) declares \(count) elements of torch.\(storage.dtype.storageName) (\(overflow ? "more than 2^63" : String(length)) bytes), but \(bytes.count - position) bytes are left")
            }
            storages[key] = Array(bytes[position ..< position + length])
            position += length
        }

        var pairs: [(String, Tensor)] = []
        for (key, ref) in refs where !StateDict.isIgnorable(key) {
            guard let format = ref.storage.dtype.format else {
                throw WeightsError.unsupportedDType(file: url, key: key, dtype: "torch.\(ref.storage.dtype.storageName)")
            }
            guard let storage = storages[ref.storage.key] else {
                throw WeightsError.badTensor(file: url, key: key, detail: "its storage \(ref.storage.key) is not in the file")
            }
            pairs.append((key, try materialise(ref, key: key, format: format, storage: storage, file: url)))
        }
        return StateDict(pairs, source: url)
    }
}
