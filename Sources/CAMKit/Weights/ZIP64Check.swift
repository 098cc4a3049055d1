import Foundation

/// Rejects zip archives whose ZIP64 fields ZIPFoundation cannot survive.
///
/// ZIPFoundation 0.9.20 converts 64-bit offsets and sizes to signed integers (`off_t`,
/// `Int64`) without checking them, so a ZIP64 value of 2^63 or more traps inside it while it
/// lists the entries (found by fuzz-torch-checkpoint, docs/FUZZING.md). These checks read the
/// raw bytes first, finding the structures the way ZIPFoundation does: the last end-of-central-
/// directory record, the ZIP64 record just before it, the central directory entries from
/// either one's offset, and the local header each entry names. Any ZIP64 value from 2^62 up
/// is refused; a real one is an offset or a size within the file or its contents. (Sizes from
/// ZIP64 data descriptors are checked by `TorchCheckpoint.extract`.)
enum ZIP64Check {
    static let limit: UInt64 = 1 << 62

    static func check(_ url: URL) throws {
        let data: Data
        do { data = try Data(contentsOf: url, options: .alwaysMapped) } catch {
            throw WeightsError.unreadable(file: url, reason: error.localizedDescription)
        }
        if let bad = data.withUnsafeBytes({ firstBadField(in: $0) }) {
            throw WeightsError.notATorchCheckpoint(file: url, detail: "damaged zip archive: \(bad)")
        }
    }

    /// The first out-of-range ZIP64 field, described, or nil.
    static func firstBadField(in bytes: UnsafeRawBufferPointer) -> String? {
        func u16(_ at: Int) -> Int { Int(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt16.self))) }
        func u32(_ at: Int) -> UInt32 { UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self)) }
        func u64(_ at: Int) -> UInt64 { UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self)) }

        // Every ZIP64 extended-information block (id 1) in the extra field at `start`.
        func badExtra(start: Int, length: Int, what: String) -> String? {
            var at = start
            let end = min(start + length, bytes.count)
            while at + 4 <= end {
                let id = u16(at), size = u16(at + 2)
                if id == 1 {
                    var field = at + 4
                    while field + 8 <= min(at + 4 + size, end) {
                        if u64(field) >= limit { return "\(what) has a ZIP64 value of \(u64(field))" }
                        field += 8
                    }
                }
                at += 4 + size
            }
            return nil
        }

        guard bytes.count >= 22,
              let eocd = stride(from: bytes.count - 22, through: 0, by: -1).first(where: { u32($0) == 0x0605_4B50 }) else {
            return nil  // not a zip archive: ZIPFoundation refuses it without reading further
        }
        var directoryStarts = [UInt64(u32(eocd + 16))]
        let record = eocd - 20 - 56
        if record >= 0, u32(record) == 0x0606_4B50 {
            for offset in [24, 32, 40, 48] where u64(record + offset) >= limit {
                return "the ZIP64 end of central directory has a field of \(u64(record + offset))"
            }
            directoryStarts.append(u64(record + 48))
        }
        for start in directoryStarts where start < UInt64(bytes.count) {
            var entry = Int(start)
            while entry + 46 <= bytes.count, u32(entry) == 0x0201_4B50 {
                let nameLength = u16(entry + 28), extraLength = u16(entry + 30), commentLength = u16(entry + 32)
                if let bad = badExtra(start: entry + 46 + nameLength, length: extraLength, what: "central directory entry at byte \(entry)") {
                    return bad
                }
                let local = Int(u32(entry + 42))
                if local + 30 <= bytes.count, u32(local) == 0x0403_4B50,
                   let bad = badExtra(start: local + 30 + u16(local + 26), length: u16(local + 28), what: "local header at byte \(local)") {
                    return bad
                }
                entry += 46 + nameLength + extraLength + commentLength
            }
        }
        return nil
    }
}
