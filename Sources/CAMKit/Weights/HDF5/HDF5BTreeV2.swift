/// Version 2 B-trees: the name indexes of dense groups (record type 5: name hash, heap ID)
/// and of dense attribute storage (type 8: heap ID, flags, creation order, name hash).
/// Only enumeration is needed, so every record is read and none is looked up by hash.
enum HDF5BTreeV2 {
    /// Every record of the tree at `address`, as a cursor over its bytes.
    static func records(_ file: HDF5File, at address: UInt64, type expectedType: UInt8) throws -> [HDF5Cursor] {
        let what = "B-tree v2 header at \(address)"
        var c = try file.cursor(at: address, what: what)
        try c.signature("BTHD")
        let version = try c.u8()
        guard version == 0 else { throw file.unsupported("\(what): version \(version)") }
        let type = try c.u8()
        guard type == expectedType else { throw file.damaged("\(what) has record type \(type), expected \(expectedType)") }
        let nodeSize = Int(try c.u32())
        let recordSize = Int(try c.u16())
        let depth = Int(try c.u16())
        try c.skip(2)  // split and merge percentages
        let root = try c.address()
        let rootRecords = Int(try c.u16())
        guard recordSize > 0, nodeSize > 10 + recordSize, nodeSize <= file.fileSize, depth < HDF5File.maxDepth else {
            throw file.damaged("\(what): node size \(nodeSize), record size \(recordSize), depth \(depth)")
        }
        guard let root else { return [] }
        let pointers = pointerSizes(nodeSize: nodeSize, recordSize: recordSize, depth: depth, offsetSize: file.offsetSize)
        var out: [HDF5Cursor] = []
        var seen = Set<UInt64>()
        try walk(file, root, records: rootRecords, level: depth, type: type, recordSize: recordSize,
                 pointers: pointers, seen: &seen, into: &out)
        return out
    }

    /// Bytes of the two counts in the child pointers of a node at each level, as libhdf5
    /// sizes them (H5B2hdr.c): the child's record count, as wide as a full leaf's count, and
    /// below level 1 the child subtree's total, as wide as the largest such subtree's total.
    private static func pointerSizes(nodeSize: Int, recordSize: Int, depth: Int, offsetSize: Int) -> [(records: Int, total: Int)] {
        func bytes(_ v: Int) -> Int { max((64 - UInt64(v).leadingZeroBitCount + 7) / 8, 1) }
        let leafMax = (nodeSize - 10) / recordSize
        let recordsSize = bytes(leafMax)
        var sizes: [(Int, Int)] = [(0, 0)]
        var cumulative = leafMax, cumulativeSize = 0  // of the level below
        if depth == 0 { return sizes }
        for _ in 1...depth {
            sizes.append((recordsSize, cumulativeSize))
            let pointer = offsetSize + recordsSize + cumulativeSize
            let maxRecords = max((nodeSize - 10 - pointer) / (recordSize + pointer), 1)
            let (product, overflow) = cumulative.multipliedReportingOverflow(by: maxRecords + 1)
            cumulative = overflow ? Int.max / 2 : product + maxRecords
            cumulativeSize = bytes(cumulative)
        }
        return sizes
    }

    private static func walk(_ file: HDF5File, _ address: UInt64, records count: Int, level: Int, type: UInt8, recordSize: Int,
                             pointers: [(records: Int, total: Int)], seen: inout Set<UInt64>, into out: inout [HDF5Cursor]) throws {
        let what = "B-tree v2 node at \(address)"
        guard seen.insert(address).inserted else { throw file.damaged("\(what) is reached twice (a cycle in the B-tree)") }
        var c = try file.cursor(at: address, what: what)
        try c.signature(level == 0 ? "BTLF" : "BTIN")
        try c.skip(1)  // version
        let nodeType = try c.u8()
        guard nodeType == type else { throw file.damaged("\(what) has record type \(nodeType), expected \(type)") }
        guard count * recordSize <= c.remaining else { throw file.damaged("\(what) declares \(count) records, more than the file holds") }
        for _ in 0..<count { out.append(try c.take(recordSize, what: "B-tree v2 record at \(c.position)")) }
        guard level > 0 else { return }
        let sizes = pointers[level]
        for _ in 0...count {
            guard let child = try c.address() else { throw file.damaged("\(what) has a child with no address") }
            let childRecords = Int(try c.uint(sizes.records))
            if sizes.total > 0 { _ = try c.uint(sizes.total) }
            try walk(file, child, records: childRecords, level: level - 1, type: type, recordSize: recordSize,
                     pointers: pointers, seen: &seen, into: &out)
        }
    }
}
