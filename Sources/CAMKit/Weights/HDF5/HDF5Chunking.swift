/// How a chunked dataset is cut and where its chunks are: the chunk shape from the layout
/// message and the chunk index, a B-tree v1 (what h5py writes by default) or, in layout
/// version 4 (`libver="latest"`), a single chunk, an implicit index or a fixed array.
struct HDF5Chunking {
    struct Chunk {
        /// Element offsets of the chunk's first element in each dimension.
        let offsets: [Int]
        let size: Int
        let filterMask: UInt32
        let address: UInt64
    }

    private enum Index {
        case btreeV1(UInt64?)
        case single(address: UInt64?, filteredSize: Int?, mask: UInt32)
        case implicit(UInt64?)
        case fixedArray(UInt64?)
    }

    let chunkDims: [Int]
    private let elementSize: Int
    private let index: Index

    init(_ c: inout HDF5Cursor, version: UInt8, rank: Int, elementSize: Int, path: String) throws {
        let file = c.file
        var dimensionality: Int
        var flags: UInt8 = 0
        var btreeAddress: UInt64?
        var dims: [UInt64] = []
        if version == 3 {
            dimensionality = Int(try c.u8())
            btreeAddress = try c.address()
            for _ in 0..<dimensionality { dims.append(UInt64(try c.u32())) }
        } else {
            flags = try c.u8()
            dimensionality = Int(try c.u8())
            let width = Int(try c.u8())
            for _ in 0..<dimensionality { dims.append(try c.uint(width)) }
        }
        // The last "dimension" is the element size.
        guard dimensionality == rank + 1, rank > 0, dims.last == UInt64(elementSize),
              dims.dropLast().allSatisfy({ $0 > 0 && $0 <= UInt64(HDF5File.maxElements) }) else {
            throw file.damaged("dataset '\(path)' has chunk dimensions \(dims) for rank \(rank) and \(elementSize)-byte elements")
        }
        chunkDims = dims.dropLast().map { Int($0) }
        guard chunkDims.reduce(1, { $0.multipliedReportingOverflow(by: $1).overflow ? Int.max : $0 * $1 }) < HDF5File.maxElements else {
            throw file.damaged("dataset '\(path)' has chunks of \(chunkDims) elements")
        }
        self.elementSize = elementSize
        if version == 3 {
            index = .btreeV1(btreeAddress)
            return
        }
        let indexType = try c.u8()
        switch indexType {
        case 1:
            let filteredSize = flags & 0x02 != 0 ? try c.length("filtered chunk size") : nil
            let mask = flags & 0x02 != 0 ? try c.u32() : 0
            index = .single(address: try c.address(), filteredSize: filteredSize, mask: mask)
        case 2:
            index = .implicit(try c.address())
        case 3:
            try c.skip(1)  // page bits, read again from the fixed array header
            index = .fixedArray(try c.address())
        default:
            let names: [UInt8: String] = [4: "extensible array", 5: "B-tree v2"]
            throw file.unsupported("dataset '\(path)': chunk index type \(indexType)\(names[indexType].map { " (\($0))" } ?? "") (the dataset is resizable; save it with a fixed shape)")
        }
    }

    private var nominalBytes: Int { chunkDims.reduce(elementSize, *) }

    /// The offsets of the chunk with row-major position `linear` in the chunk grid.
    private func offsets(linear: Int, grid: [Int]) -> [Int] {
        var rest = linear
        var out = [Int](repeating: 0, count: grid.count)
        for d in stride(from: grid.count - 1, through: 0, by: -1) {
            out[d] = (rest % grid[d]) * chunkDims[d]
            rest /= grid[d]
        }
        return out
    }

    /// Every chunk the index lists (none when nothing was ever written).
    func chunks(_ file: HDF5File, shape: [Int], grid: [Int], pipeline: HDF5FilterPipeline, path: String) throws -> [Chunk] {
        let gridCount = grid.reduce(1) { $0.multipliedReportingOverflow(by: $1).overflow ? Int.max : $0 * $1 }
        switch index {
        case let .btreeV1(address):
            guard let address else { return [] }
            let rank = chunkDims.count
            return try HDF5BTreeV1.leaves(file, at: address, nodeType: 1, keySize: 8 + 8 * (rank + 1)).map { leaf in
                var key = leaf.key
                let size = Int(try key.u32())
                let mask = try key.u32()
                let offsets = try (0..<rank).map { _ -> Int in
                    let offset = try key.uint(8)
                    guard offset <= UInt64(Int.max) else { throw file.damaged("dataset '\(path)' has a chunk at offset \(offset)") }
                    return Int(offset)
                }
                return Chunk(offsets: offsets, size: size, filterMask: mask, address: leaf.child)
            }
        case let .single(address, filteredSize, mask):
            guard let address else { return [] }
            return [Chunk(offsets: chunkDims.map { _ in 0 }, size: filteredSize ?? nominalBytes, filterMask: mask, address: address)]
        case let .implicit(address):
            guard let address else { return [] }
            guard pipeline.filters.isEmpty else { throw file.damaged("dataset '\(path)' has an implicit chunk index and filters") }
            guard address <= UInt64(file.fileSize), gridCount <= file.fileSize / nominalBytes else {
                throw file.damaged("dataset '\(path)' has \(gridCount) implicit chunks of \(nominalBytes) bytes, more than the file holds")
            }
            return (0..<gridCount).map { i in
                Chunk(offsets: offsets(linear: i, grid: grid), size: nominalBytes, filterMask: 0, address: address + UInt64(i * nominalBytes))
            }
        case let .fixedArray(address):
            guard let address else { return [] }
            return try fixedArray(file, at: address, grid: grid, gridCount: gridCount, path: path)
        }
    }

    private func fixedArray(_ file: HDF5File, at address: UInt64, grid: [Int], gridCount: Int, path: String) throws -> [Chunk] {
        var h = try file.cursor(at: address, what: "fixed array header at \(address)")
        try h.signature("FAHD")
        try h.skip(1)  // version
        let client = try h.u8()
        let entrySize = Int(try h.u8())
        let pageBits = try h.u8()
        let entries = try h.length("entry count")
        guard let dataBlock = try h.address() else { return [] }
        guard entries == gridCount else {
            throw file.damaged("dataset '\(path)': its fixed array has \(entries) entries for \(gridCount) chunks")
        }
        guard pageBits >= 63 || entries <= 1 << Int(pageBits) else { throw file.unsupported("dataset '\(path)': a paged fixed array chunk index") }
        let filtered = client == 1
        let sizeBytes = entrySize - file.offsetSize - 4
        guard client <= 1, entrySize == file.offsetSize + (filtered ? sizeBytes + 4 : 0), !filtered || (1...8).contains(sizeBytes) else {
            throw file.damaged("dataset '\(path)': fixed array of client \(client) with \(entrySize)-byte entries")
        }
        var c = try file.cursor(at: dataBlock, what: "fixed array data block at \(dataBlock)")
        try c.signature("FADB")
        try c.skip(2 + file.offsetSize)  // version, client, header address
        guard entries * entrySize <= c.remaining else { throw file.damaged("fixed array data block at \(dataBlock) is past the end of the file") }
        var chunks: [Chunk] = []
        for i in 0..<entries {
            let chunkAddress = try c.address()
            let size = filtered ? Int(try c.uint(sizeBytes)) : nominalBytes
            let mask = filtered ? try c.u32() : 0
            if let chunkAddress {
                chunks.append(Chunk(offsets: offsets(linear: i, grid: grid), size: size, filterMask: mask, address: chunkAddress))
            }
        }
        return chunks
    }
}
