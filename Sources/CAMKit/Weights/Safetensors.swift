import Foundation

/// The safetensors format: an 8-byte little-endian header length, a JSON header mapping each
/// key to `{dtype, shape, data_offsets}`, then the raw tensor bytes.
///
/// Preferred over pickled checkpoints because reading it executes nothing. The file is memory
/// mapped and every offset is checked against its size before any tensor byte is touched, so
/// a hostile header can neither read out of bounds nor make us allocate what it claims.
public enum Safetensors {
    /// The element types `write` can produce.
    public enum DType: String, Sendable, CaseIterable {
        case f32 = "F32", f16 = "F16", bf16 = "BF16"
    }

    public static func read(contentsOf url: URL) throws -> StateDict {
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .alwaysMapped)
        } catch {
            throw WeightsError.unreadable(file: url, reason: error.localizedDescription)
        }
        return try read(data: data, file: url)
    }

    /// Reads safetensors bytes; `file`, when given, is only used in error messages.
    public static func read(data: Data, file: URL? = nil) throws -> StateDict {
        let entries = try parseHeader(data, file: file)
        var pairs: [(String, Tensor)] = []
        pairs.reserveCapacity(entries.count)
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            for entry in entries where !StateDict.isIgnorable(entry.key) {
                guard let dtype = entry.dtype.floatFormat else {
                    throw WeightsError.unsupportedDType(file: file, key: entry.key, dtype: entry.dtype.name)
                }
                let bytes = UnsafeRawBufferPointer(rebasing: raw[(entry.dataStart + entry.begin)..<(entry.dataStart + entry.end)])
                let tensor = Tensor(shape: entry.shape) { out in
                    ElementDecoding.decode(bytes, as: dtype, into: out)
                }
                pairs.append((entry.key, tensor))
            }
        }
        return StateDict(pairs, source: file)
    }

    /// Writes `dict` with every tensor stored as `dtype` (rounded to nearest even when narrower).
    public static func write(_ dict: StateDict, dtype: DType, to url: URL) throws {
        let itemSize = dtype == .f32 ? 4 : 2
        var header = "{"
        var offset = 0
        for (i, pair) in dict.pairs.enumerated() {
            let size = pair.tensor.count * itemSize
            if i > 0 { header += "," }
            header += "\(jsonString(pair.key)):{\"dtype\":\"\(dtype.rawValue)\",\"shape\":[\(pair.tensor.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + size)]}"
            offset += size
        }
        header += "}"
        var headerBytes = Array(header.utf8)
        // Pads with spaces so tensor data starts 8-byte aligned, as the reference writer does.
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }

        var out = Data(capacity: 8 + headerBytes.count + offset)
        withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: headerBytes)
        for pair in dict.pairs {
            switch dtype {
            case .f32:
                for v in pair.tensor.scalars { withUnsafeBytes(of: v.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
            case .f16:
                for v in pair.tensor.scalars { withUnsafeBytes(of: HalfPrecision.half(from: v).littleEndian) { out.append(contentsOf: $0) } }
            case .bf16:
                for v in pair.tensor.scalars { withUnsafeBytes(of: HalfPrecision.bfloat16(from: v).littleEndian) { out.append(contentsOf: $0) } }
            }
        }
        try out.write(to: url, options: .atomic)
    }

    // MARK: - Header

    struct Entry {
        let key: String
        let dtype: StoredDType
        let shape: [Int]
        /// Offsets relative to the start of the data section (`dataStart`).
        let begin: Int
        let end: Int
        let dataStart: Int
    }

    /// Parses and validates the header: afterwards every entry's byte range is known to lie
    /// inside the data section, to match its shape and dtype, and not to overlap another.
    static let maxHeaderLength: UInt64 = 100_000_000

    static func parseHeader(_ data: Data, file: URL?) throws -> [Entry] {
        guard !data.isEmpty else { throw WeightsError.emptyFile(file: file) }
        guard data.count >= 8 else {
            throw WeightsError.truncated(file: file, detail: "\(data.count) bytes, but a safetensors file starts with an 8-byte header length")
        }
        let headerLength = data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        let available = UInt64(data.count - 8)
        guard headerLength <= available else {
            throw WeightsError.badHeader(file: file, detail: "header length \(headerLength) runs past the end of the file (\(available) bytes follow the length)")
        }
        // The reference implementation's limit: a real header is kilobytes, and this bounds
        // what a hostile length makes us copy and parse.
        guard headerLength <= maxHeaderLength else {
            throw WeightsError.badHeader(file: file, detail: "header length \(headerLength) exceeds the \(maxHeaderLength)-byte limit")
        }
        let dataStart = 8 + Int(headerLength)
        let dataSize = data.count - dataStart
        let headerData = data.subdata(in: 8..<dataStart)
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: headerData)
        } catch {
            throw WeightsError.badHeader(file: file, detail: "JSON invalid (\(headerLength) header bytes do not parse: \(error.localizedDescription))")
        }
        guard let object = json as? [String: Any] else {
            throw WeightsError.badHeader(file: file, detail: "JSON is not an object")
        }

        var entries: [Entry] = []
        for (key, value) in object where key != "__metadata__" {
            guard let fields = value as? [String: Any] else {
                throw WeightsError.badHeader(file: file, detail: "entry '\(key)' is not an object")
            }
            guard let dtypeName = fields["dtype"] as? String else {
                throw WeightsError.badHeader(file: file, detail: "entry '\(key)' has no dtype string")
            }
            guard let shape = intArray(fields["shape"]), shape.allSatisfy({ $0 >= 0 }) else {
                throw WeightsError.badHeader(file: file, detail: "entry '\(key)' has no valid shape (a list of non-negative integers)")
            }
            guard let offsets = intArray(fields["data_offsets"]), offsets.count == 2 else {
                throw WeightsError.badHeader(file: file, detail: "entry '\(key)' has no valid data_offsets (two integers)")
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, begin <= end, end <= dataSize else {
                throw WeightsError.badHeader(file: file, detail: "offsets [\(begin), \(end)] of '\(key)' are out of range: the data section holds \(dataSize) bytes")
            }
            let dtype = StoredDType(name: dtypeName)
            if let itemSize = dtype.itemSize {
                guard let expected = byteCount(shape, itemSize: itemSize), expected == end - begin else {
                    throw WeightsError.badHeader(file: file, detail: "offsets [\(begin), \(end)] of '\(key)' span \(end - begin) bytes, but shape \(shape) of \(dtypeName) needs \(byteCount(shape, itemSize: itemSize).map(String.init) ?? "too many")")
                }
            } else if !StateDict.isIgnorable(key) {
                throw WeightsError.unsupportedDType(file: file, key: key, dtype: dtypeName)
            }
            entries.append(Entry(key: key, dtype: dtype, shape: shape, begin: begin, end: end, dataStart: dataStart))
        }

        // The byte ranges must tile the data section: no overlap (two keys aliasing bytes) and
        // no gap (hidden bytes, the trick behind polyglot files), as the format requires.
        entries.sort { ($0.begin, $0.end, $0.key) < ($1.begin, $1.end, $1.key) }
        var position = 0
        for entry in entries {
            if entry.begin < position {
                throw WeightsError.badHeader(file: file, detail: "offsets [\(entry.begin), \(entry.end)] of '\(entry.key)' overlap the previous tensor, which ends at \(position)")
            }
            if entry.begin > position {
                throw WeightsError.badHeader(file: file, detail: "offsets leave bytes \(position)..<\(entry.begin) before '\(entry.key)' unused")
            }
            position = entry.end
        }
        if position != dataSize {
            throw WeightsError.badHeader(file: file, detail: "tensors end at byte \(position) of a \(dataSize)-byte data section")
        }
        return entries
    }

    private static func intArray(_ value: Any?) -> [Int]? {
        guard let list = value as? [Any] else { return nil }
        var result: [Int] = []
        for item in list {
            if let i = item as? Int, !(item is Bool) {
                result.append(i)
            } else if let n = item as? NSNumber, let i = Int(exactly: n.doubleValue), Double(i) == n.doubleValue {
                result.append(i)
            } else {
                return nil
            }
        }
        return result
    }

    private static func byteCount(_ shape: [Int], itemSize: Int) -> Int? {
        var total = itemSize
        for d in shape {
            let (product, overflow) = total.multipliedReportingOverflow(by: d)
            if overflow { return nil }
            total = product
        }
        return total
    }

    private static func jsonString(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

/// A safetensors dtype name, with the sizes of all the format's types so that ranges can be
/// validated even for tensors that are then skipped.
struct StoredDType {
    let name: String

    var itemSize: Int? {
        switch name {
        case "F64", "I64", "U64": return 8
        case "F32", "I32", "U32": return 4
        case "F16", "BF16", "I16", "U16": return 2
        case "I8", "U8", "BOOL", "F8_E4M3", "F8_E5M2": return 1
        default: return nil
        }
    }

    var floatFormat: ElementFormat? {
        switch name {
        case "F32": return .float32
        case "F16": return .float16
        case "BF16": return .bfloat16
        case "F64": return .float64
        default: return nil
        }
    }
}

/// Little-endian element encodings that convert to float32.
enum ElementFormat {
    case float32, float16, bfloat16, float64

    var itemSize: Int {
        switch self {
        case .float32: return 4
        case .float16, .bfloat16: return 2
        case .float64: return 8
        }
    }
}

enum ElementDecoding {
    /// Decodes `out.count` contiguous elements. Loads are unaligned: neither format promises
    /// alignment (a safetensors header length need not be a multiple of 8).
    static func decode(_ bytes: UnsafeRawBufferPointer, as format: ElementFormat, into out: UnsafeMutableBufferPointer<Float>) {
        precondition(bytes.count == out.count * format.itemSize)
        for i in 0..<out.count {
            out[i] = element(bytes, at: i, as: format)
        }
    }

    @inline(__always)
    static func element(_ bytes: UnsafeRawBufferPointer, at i: Int, as format: ElementFormat) -> Float {
        switch format {
        case .float32:
            return Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)))
        case .float16:
            return HalfPrecision.float(fromHalf: UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)))
        case .bfloat16:
            return HalfPrecision.float(fromBFloat16: UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)))
        case .float64:
            return Float(Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))))
        }
    }
}
