/// A dataset's elements as float32, read from its compact, contiguous or chunked storage.
///
/// Before anything is allocated, the bytes a dataset declares (elements × element size) must
/// be stored in the file: a contiguous or compact dataset must hold them all, and a chunked one
/// must have every chunk its shape needs, with no more than deflate's largest expansion of what
/// it stores. HDF5 would read the rest as fill values, which lets a small file claim gigabytes.
public struct HDF5Dataset {
    public let path: String
    public let shape: [Int]
    let datatype: HDF5Datatype
    private let object: HDF5Object

    init(_ object: HDF5Object) throws {
        let file = object.file
        guard let typeMessage = object.message(.datatype), let spaceMessage = object.message(.dataspace),
              object.message(.layout) != nil else {
            throw HDF5Error(file: file.url, detail: "'\(object.path)' is not a dataset")
        }
        var t = typeMessage.cursor(file, what: "datatype of '\(object.path)'")
        datatype = try HDF5Datatype.parse(&t)
        var s = spaceMessage.cursor(file, what: "dataspace of '\(object.path)'")
        shape = try HDF5Dataspace.parse(&s).dims
        path = object.path
        self.object = object
    }

    private var file: HDF5File { object.file }

    private func fail(_ detail: String) -> HDF5Error { HDF5Error(file: file.url, detail: "dataset '\(path)' \(detail)") }

    public func readFloats() throws -> [Float] {
        guard case let .float(elementSize, _) = datatype else { throw fail("is not floating point (it holds a \(datatype.name))") }
        let count = HDF5Dataspace(dims: shape, isNull: false).count
        guard let count, count < HDF5File.maxElements else { throw fail("has shape \(shape)") }
        let bytes = count * elementSize
        // An empty dataset's other dims may be anything: nothing below may multiply them.
        if count == 0 { return [] }
        guard object.message(.externalFiles) == nil else { throw file.unsupported("dataset '\(path)' stored in external files") }
        let pipeline = try object.message(.filterPipeline).map { try HDF5FilterPipeline($0, file: file) } ?? HDF5FilterPipeline()

        var layout = object.message(.layout)!.cursor(file, what: "layout of '\(path)'")
        let version = try layout.u8()
        // Version 5 (libhdf5 2.0, h5py 3.16 with `libver="latest"`) is laid out as version 4.
        guard (3...5).contains(version) else { throw file.unsupported("dataset '\(path)': data layout message version \(version)") }
        let layoutClass = try layout.u8()
        switch layoutClass {
        case 0:
            let size = Int(try layout.u16())
            guard size >= bytes else { throw fail("holds \(bytes) bytes, but \(size) are stored in the \(file.fileSize)-byte file") }
            try file.allocate(count * 4, for: "dataset '\(path)'")
            return decode(try layout.bytes(bytes), count: count)
        case 1:
            let address = try layout.address()
            let size = try layout.uint(file.lengthSize)
            guard let address, size >= UInt64(bytes) else {
                throw fail("holds \(bytes) bytes, but \(address == nil ? 0 : size) are stored in the \(file.fileSize)-byte file")
            }
            guard address <= UInt64(file.fileSize), UInt64(bytes) <= UInt64(file.fileSize) - address else {
                throw fail("has \(bytes) bytes at offset \(address), past the end of the \(file.fileSize)-byte file")
            }
            var data = try file.cursor(at: address, length: UInt64(bytes), what: "data of '\(path)'")
            try file.allocate(count * 4, for: "dataset '\(path)'")
            return decode(try data.bytes(bytes), count: count)
        case 2:
            let chunking = try HDF5Chunking(&layout, version: version, rank: shape.count, elementSize: elementSize, path: path)
            return try readChunked(chunking, pipeline: pipeline, count: count, bytes: bytes)
        default:
            throw file.unsupported("dataset '\(path)': layout class \(layoutClass) (virtual)")
        }
    }

    private func readChunked(_ chunking: HDF5Chunking, pipeline: HDF5FilterPipeline, count: Int, bytes: Int) throws -> [Float] {
        let chunkDims = chunking.chunkDims
        let elementSize = datatype.size
        // Chunks along each dimension, and in all.
        let grid = zip(shape, chunkDims).map { ($0 - 1) / $1 + 1 }
        let needed = grid.reduce(1) { $0.multipliedReportingOverflow(by: $1).overflow ? Int.max : $0 * $1 }
        let chunks = try chunking.chunks(file, shape: shape, grid: grid, pipeline: pipeline, path: path)
        let stored = chunks.reduce(0) { $0 + $1.size }
        let (reach, overflow) = stored.multipliedReportingOverflow(by: pipeline.maxExpansion)
        guard overflow || reach >= bytes else {
            throw fail("holds \(bytes) bytes, but \(stored) are stored in the \(file.fileSize)-byte file (\(chunks.count) of \(needed) chunks; chunks never written are not read as fill values)")
        }
        var positions = Set<[Int]>()
        for chunk in chunks {
            guard zip(chunk.offsets, zip(chunkDims, shape)).allSatisfy({ $0 >= 0 && $0 % $1.0 == 0 && $0 < $1.1 }) else {
                throw fail("has a chunk at \(chunk.offsets), not on the chunk grid of \(chunkDims) inside \(shape)")
            }
            guard positions.insert(chunk.offsets).inserted else { throw fail("has two chunks at \(chunk.offsets)") }
        }
        guard positions.count == needed else {
            throw fail("holds \(bytes) bytes in \(needed) chunks, but only \(positions.count) are stored (chunks never written are not read as fill values)")
        }

        let chunkElements = chunkDims.reduce(1, *)
        try file.allocate(count * 4, for: "dataset '\(path)'")
        var values = [Float](repeating: 0, count: count)
        let rank = shape.count
        var strides = [Int](repeating: 1, count: rank)
        for d in stride(from: rank - 2, through: 0, by: -1) { strides[d] = strides[d + 1] * shape[d + 1] }
        for chunk in chunks {
            let what = "chunk at \(chunk.offsets) of '\(path)'"
            var c = try file.cursor(at: chunk.address, length: UInt64(chunk.size), what: what)
            let raw = try c.bytes(chunk.size)
            // A chunk may be larger than the dataset; it may not decode to more than its own
            // stored bytes allow, so its buffer is bounded by the file too.
            let (chunkReach, chunkOverflow) = chunk.size.multipliedReportingOverflow(by: pipeline.maxExpansion)
            guard chunkOverflow || chunkReach >= chunkElements * elementSize else {
                throw fail("has a chunk at \(chunk.offsets) of \(chunkElements * elementSize) bytes stored in \(chunk.size)")
            }
            let decoded = pipeline.filters.isEmpty
                ? raw.prefix(chunkElements * elementSize)
                : ArraySlice(try pipeline.decode(raw, mask: chunk.filterMask, size: chunkElements * elementSize,
                                                 elementSize: elementSize, file: file, what: what))
            guard decoded.count == chunkElements * elementSize else {
                throw fail("has a chunk of \(decoded.count) bytes at \(chunk.offsets), expected \(chunkElements * elementSize)")
            }
            let chunkValues = decode(decoded, count: chunkElements)
            // Copy the part of the chunk inside the dataset, a run along the last dimension at a time.
            let run = min(chunkDims[rank - 1], shape[rank - 1] - chunk.offsets[rank - 1])
            var index = [Int](repeating: 0, count: rank)
            outer: while true {
                var inside = true
                var target = 0, source = 0
                for d in 0..<rank {
                    if chunk.offsets[d] + index[d] >= shape[d] { inside = false }
                    target += (chunk.offsets[d] + index[d]) * strides[d]
                    source = source * chunkDims[d] + index[d]
                }
                if inside {
                    for k in 0..<run { values[target + k] = chunkValues[source + k] }
                }
                var d = rank - 2
                while d >= 0 {
                    index[d] += 1
                    if index[d] < chunkDims[d] { continue outer }
                    index[d] = 0
                    d -= 1
                }
                break
            }
        }
        return values
    }

    /// Stored elements of the dataset's float type to float32.
    private func decode(_ bytes: ArraySlice<UInt8>, count: Int) -> [Float] {
        guard case let .float(size, bigEndian) = datatype else { return [] }
        return bytes.withUnsafeBytes { raw in
            [Float](unsafeUninitializedCapacity: count) { out, initialized in
                for i in 0..<count {
                    let at = i * size
                    switch (size, bigEndian) {
                    case (4, false): out[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt32.self)))
                    case (4, true): out[i] = Float(bitPattern: UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt32.self)))
                    case (8, false): out[i] = Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt64.self))))
                    case (8, true): out[i] = Float(Double(bitPattern: UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt64.self))))
                    case (_, false): out[i] = HalfPrecision.float(fromHalf: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt16.self)))
                    case (_, true): out[i] = HalfPrecision.float(fromHalf: UInt16(bigEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt16.self)))
                    }
                }
                initialized = count
            }
        }
    }
}

extension HDF5Object {
    /// This object as a dataset (an error if it is a group).
    public func dataset() throws -> HDF5Dataset { try HDF5Dataset(self) }
}
