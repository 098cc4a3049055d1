/// Version 1 B-trees: the index of a symbol-table group's entries (node type 0) and of a
/// chunked dataset's chunks (node type 1).
enum HDF5BTreeV1 {
    /// One entry of a leaf: the key before the child (for chunks: size, filter mask and
    /// offsets) and the child's address (a symbol table node, or a chunk).
    struct LeafEntry {
        let key: HDF5Cursor
        let child: UInt64
    }

    /// Every leaf entry under the node at `address`, left to right.
    static func leaves(_ file: HDF5File, at address: UInt64, nodeType: UInt8, keySize: Int) throws -> [LeafEntry] {
        var out: [LeafEntry] = []
        var seen = Set<UInt64>()
        try walk(file, address, nodeType: nodeType, keySize: keySize, depth: 0, expectedLevel: nil, seen: &seen, into: &out)
        return out
    }

    private static func walk(_ file: HDF5File, _ address: UInt64, nodeType: UInt8, keySize: Int, depth: Int,
                             expectedLevel: UInt8?, seen: inout Set<UInt64>, into out: inout [LeafEntry]) throws {
        let what = "B-tree node at \(address)"
        guard depth < HDF5File.maxDepth else { throw file.damaged("\(what) is more than \(HDF5File.maxDepth) levels deep") }
        guard seen.insert(address).inserted else { throw file.damaged("\(what) is reached twice (a cycle in the B-tree)") }
        var c = try file.cursor(at: address, what: what)
        try c.signature("TREE")
        let type = try c.u8()
        guard type == nodeType else { throw file.damaged("\(what) has node type \(type), expected \(nodeType)") }
        let level = try c.u8()
        if let expectedLevel, level != expectedLevel {
            throw file.damaged("\(what) is at level \(level), expected \(expectedLevel)")
        }
        let entries = Int(try c.u16())
        _ = try c.address()  // left sibling
        _ = try c.address()  // right sibling
        guard entries * (keySize + file.offsetSize) <= c.remaining else {
            throw file.damaged("\(what) declares \(entries) entries, more than the file holds")
        }
        for _ in 0..<entries {
            let key = try c.take(keySize, what: "key in \(what)")
            guard let child = try c.address() else { throw file.damaged("\(what) has a child with no address") }
            if level == 0 {
                out.append(LeafEntry(key: key, child: child))
            } else {
                try walk(file, child, nodeType: nodeType, keySize: keySize, depth: depth + 1,
                         expectedLevel: level - 1, seen: &seen, into: &out)
            }
        }
    }
}
