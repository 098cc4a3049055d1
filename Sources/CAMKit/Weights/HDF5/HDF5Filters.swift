import CInflate

/// The chunk filters Keras and h5py files use: deflate (zlib) and shuffle. Each filter's
/// output is bounded by the chunk's size, so no stream can grow past what the dataset holds.
struct HDF5FilterPipeline {
    struct Filter {
        let id: UInt16
        let clientData: [UInt32]
    }

    static let deflate: UInt16 = 1
    static let shuffle: UInt16 = 2
    /// The most bytes deflate can produce from one byte of input (zlib's limit is 1032:1):
    /// the bound on what a compressed dataset may declare against its stored bytes.
    static let maxDeflateRatio = 1032

    let filters: [Filter]

    var maxExpansion: Int { filters.contains { $0.id == Self.deflate } ? Self.maxDeflateRatio : 1 }

    /// No filters: contiguous and compact data, and the chunks of an unfiltered dataset.
    init() { filters = [] }

    init(_ message: HDF5Message, file: HDF5File) throws {
        var c = message.cursor(file, what: "filter pipeline message")
        let version = try c.u8()
        let count = Int(try c.u8())
        guard version == 1 || version == 2 else { throw file.unsupported("filter pipeline message version \(version)") }
        if version == 1 { try c.skip(6) }
        var filters: [Filter] = []
        for _ in 0..<count {
            let id = try c.u16()
            let nameLength = version == 1 || id >= 256 ? Int(try c.u16()) : 0
            try c.skip(2)  // flags
            let valueCount = Int(try c.u16())
            try c.skip(version == 1 ? (nameLength + 7) / 8 * 8 : nameLength)
            let values = try (0..<valueCount).map { _ in try c.u32() }
            if version == 1 && valueCount % 2 == 1 { try c.skip(4) }
            guard id == Self.deflate || id == Self.shuffle else {
                let names: [UInt16: String] = [3: "fletcher32", 4: "szip", 5: "nbit", 6: "scale-offset", 32000: "lzf"]
                throw file.unsupported("filter \(id)\(names[id].map { " (\($0))" } ?? "") (only deflate and shuffle are read)")
            }
            filters.append(Filter(id: id, clientData: values))
        }
        self.filters = filters
    }

    /// Undoes the filters not masked off for this chunk, last applied first, into exactly
    /// `size` bytes.
    func decode(_ stored: ArraySlice<UInt8>, mask: UInt32, size: Int, elementSize: Int, file: HDF5File, what: String) throws -> [UInt8] {
        var bytes = Array(stored)
        for (i, filter) in filters.enumerated().reversed() where i >= 32 || mask & (1 << UInt32(i)) == 0 {
            switch filter.id {
            case Self.deflate: bytes = try inflate(bytes, size: size, file: file, what: what)
            default: bytes = unshuffle(bytes, elementSize: filter.clientData.first.map(Int.init) ?? elementSize)
            }
        }
        guard bytes.count == size else {
            throw file.damaged("\(what) holds \(bytes.count) bytes after its filters, expected \(size)")
        }
        return bytes
    }

    /// A zlib stream inflated into a buffer of `size` bytes; a stream that would need more,
    /// or that ends early or is damaged, is an error.
    private func inflate(_ input: [UInt8], size: Int, file: HDF5File, what: String) throws -> [UInt8] {
        guard input.count <= Int(UInt32.max), size <= Int(UInt32.max) else { throw file.unsupported("\(what): a chunk of more than 4 GB") }
        var output = [UInt8](repeating: 0, count: size)
        var stream = z_stream()
        guard camkit_inflate_init(&stream) == Z_OK else { throw file.damaged("\(what): zlib could not start inflating") }
        defer { inflateEnd(&stream) }
        let status: Int32 = input.withUnsafeBytes { source in
            output.withUnsafeMutableBytes { target in
                stream.next_in = UnsafeMutablePointer(mutating: source.bindMemory(to: Bytef.self).baseAddress)
                stream.avail_in = uInt(source.count)
                stream.next_out = target.bindMemory(to: Bytef.self).baseAddress
                stream.avail_out = uInt(target.count)
                return CInflate.inflate(&stream, Z_FINISH)
            }
        }
        switch status {
        case Z_STREAM_END:
            guard stream.avail_out == 0 else { throw file.damaged("\(what) inflates to \(size - Int(stream.avail_out)) bytes, expected \(size)") }
            return output
        case Z_BUF_ERROR where stream.avail_out == 0:
            throw file.damaged("\(what) inflates to more than the chunk's \(size) bytes")
        default:
            let reason = stream.msg.map { String(cString: $0) } ?? "zlib status \(status)"
            throw file.damaged("\(what) is not a complete deflate stream (\(reason))")
        }
    }

    /// Shuffle stores byte 0 of every element, then byte 1 of every element, and so on.
    private func unshuffle(_ bytes: [UInt8], elementSize: Int) -> [UInt8] {
        guard elementSize > 1, bytes.count >= elementSize else { return bytes }
        let count = bytes.count / elementSize
        var out = bytes  // a tail shorter than one element is stored as is
        for b in 0..<elementSize {
            for i in 0..<count { out[i * elementSize + b] = bytes[b * count + i] }
        }
        return out
    }
}
