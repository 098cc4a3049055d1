/// A fractal heap: where groups in dense storage keep their link messages and objects with
/// many attributes keep their attribute messages, found by heap IDs from a B-tree v2 index.
///
/// The heap's address space is laid out in a doubling table: rows of `tableWidth` blocks,
/// the first two rows of `startBlockSize` bytes and each next row twice the size, direct
/// blocks up to `maxDirectBlockSize` and indirect blocks (tables of their own) beyond. This
/// reader walks the table once, noting where each allocated direct block is in heap space.
struct HDF5FractalHeap {
    private let file: HDF5File
    private let address: UInt64
    private let heapIDLength: Int
    private let offsetBytes: Int
    private let lengthBytes: Int
    private let tableWidth: Int
    private let startBlockSize: Int
    private let maxDirectRows: Int
    private let log2Start: Int
    private let log2Width: Int
    /// Allocated direct blocks: heap offset, size and file address (of the block's start).
    private var directBlocks: [(heapOffset: UInt64, size: Int, address: UInt64)] = []

    init(_ file: HDF5File, at address: UInt64) throws {
        self.file = file
        self.address = address
        let what = "fractal heap at \(address)"
        var c = try file.cursor(at: address, what: what)
        try c.signature("FRHP")
        let version = try c.u8()
        guard version == 0 else { throw file.unsupported("\(what): version \(version)") }
        heapIDLength = Int(try c.u16())
        let filterLength = try c.u16()
        guard filterLength == 0 else { throw file.unsupported("\(what): I/O filters on a fractal heap") }
        try c.skip(1)  // flags: huge IDs wrapped, direct blocks checksummed (checksums are not verified)
        let maxManagedObject = UInt64(try c.u32())
        _ = try c.uint(file.lengthSize)  // next huge object ID
        _ = try c.address()              // huge objects B-tree
        _ = try c.uint(file.lengthSize)  // free space in managed blocks
        _ = try c.address()              // free space manager
        for _ in 0..<8 { _ = try c.uint(file.lengthSize) }  // space, object counts and sizes
        tableWidth = Int(try c.u16())
        let start = try c.uint(file.lengthSize)
        let maxDirect = try c.uint(file.lengthSize)
        let maxHeapBits = Int(try c.u16())
        _ = try c.u16()  // starting rows of the root indirect block
        let root = try c.address()
        let rootRows = Int(try c.u16())

        func log2(_ v: UInt64) -> Int? { v > 0 && v & (v - 1) == 0 ? v.trailingZeroBitCount : nil }
        guard let log2Width = log2(UInt64(tableWidth)), let log2Start = log2(start), let log2MaxDirect = log2(maxDirect),
              log2MaxDirect >= log2Start, log2MaxDirect < 32, (1...64).contains(maxHeapBits), heapIDLength >= 1,
              rootRows <= 64 else {
            throw file.damaged("\(what): table width \(tableWidth), block sizes \(start) to \(maxDirect), \(maxHeapBits)-bit heap, \(rootRows) root rows")
        }
        self.log2Width = log2Width
        self.log2Start = log2Start
        startBlockSize = Int(start)
        maxDirectRows = log2MaxDirect - log2Start + 2
        offsetBytes = (maxHeapBits + 7) / 8
        lengthBytes = (64 - min(maxDirect, maxManagedObject).leadingZeroBitCount + 7) / 8

        if let root {
            var seen = Set<UInt64>()
            if rootRows == 0 {
                try checkDirectBlock(at: root, size: startBlockSize)
                directBlocks.append((0, startBlockSize, root))
            } else {
                try walkIndirect(at: root, rows: rootRows, heapOffset: 0, depth: 0, seen: &seen)
            }
        }
    }

    /// Size of the blocks in a row of the doubling table.
    private func blockSize(row: Int) -> UInt64 { UInt64(startBlockSize) << UInt64(max(row - 1, 0)) }

    private func checkDirectBlock(at address: UInt64, size: Int) throws {
        var c = try file.cursor(at: address, length: UInt64(size), what: "fractal heap direct block at \(address)")
        try c.signature("FHDB")
    }

    private mutating func walkIndirect(at address: UInt64, rows: Int, heapOffset: UInt64, depth: Int, seen: inout Set<UInt64>) throws {
        let what = "fractal heap indirect block at \(address)"
        guard depth < HDF5File.maxDepth else { throw file.damaged("\(what) is nested more than \(HDF5File.maxDepth) deep") }
        guard seen.insert(address).inserted else { throw file.damaged("\(what) is reached twice") }
        var c = try file.cursor(at: address, what: what)
        try c.signature("FHIB")
        try c.skip(1 + file.offsetSize + offsetBytes)  // version, heap header address, block offset
        guard rows * tableWidth * file.offsetSize <= c.remaining else {
            throw file.damaged("\(what) declares \(rows) rows of \(tableWidth) blocks, more than the file holds")
        }
        var offset = heapOffset
        for row in 0..<rows {
            let size = blockSize(row: row)
            for _ in 0..<tableWidth {
                let child = try c.address()
                if let child {
                    if row < maxDirectRows {
                        try checkDirectBlock(at: child, size: Int(size))
                        guard directBlocks.count < file.fileSize / 16 else { throw file.damaged("\(what): more direct blocks than the file can hold") }
                        directBlocks.append((offset, Int(size), child))
                    } else {
                        let childRows = size.trailingZeroBitCount - (log2Width + log2Start - 1)
                        guard childRows > 0, childRows < rows else { throw file.damaged("\(what): a child indirect block of \(childRows) rows") }
                        try walkIndirect(at: child, rows: childRows, heapOffset: offset, depth: depth + 1, seen: &seen)
                    }
                }
                let (next, overflow) = offset.addingReportingOverflow(size)
                guard !overflow else { throw file.damaged("\(what): heap offsets overflow") }
                offset = next
            }
        }
    }

    /// The bytes of the object a heap ID names (managed or tiny; huge objects are outside
    /// what Keras files hold).
    func object(_ id: HDF5Cursor) throws -> HDF5Cursor {
        var c = id
        guard c.remaining >= heapIDLength else { throw file.damaged("a fractal heap ID shorter than the heap's \(heapIDLength) bytes") }
        let first = try c.u8()
        guard first >> 6 == 0 else { throw file.unsupported("fractal heap ID version \(first >> 6)") }
        switch (first >> 4) & 0x03 {
        case 0:
            let offset = try c.uint(offsetBytes)
            let length = Int(try c.uint(lengthBytes))
            guard let block = directBlocks.first(where: { offset >= $0.heapOffset && offset - $0.heapOffset < UInt64($0.size) }) else {
                throw file.damaged("fractal heap at \(address) has no block at heap offset \(offset)")
            }
            let inBlock = Int(offset - block.heapOffset)
            guard length <= block.size - inBlock else {
                throw file.damaged("a fractal heap object of \(length) bytes at heap offset \(offset) runs past its block")
            }
            return try file.cursor(at: block.address + UInt64(inBlock), length: UInt64(length), what: "fractal heap object at heap offset \(offset)")
        case 2:
            let length = Int(first & 0x0F) + 1
            return try c.take(length, what: "tiny fractal heap object")
        case 1:
            throw file.unsupported("huge objects in a fractal heap")
        default:
            throw file.damaged("fractal heap ID of unknown type \((first >> 4) & 0x03)")
        }
    }
}
