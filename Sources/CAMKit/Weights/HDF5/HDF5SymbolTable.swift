/// The links of a group stored the original way (superblock version 0, h5py's default): a
/// B-tree v1 of symbol table nodes whose entries name their links by offset into a local heap.
enum HDF5SymbolTable {
    static func links(_ file: HDF5File, message: HDF5Message) throws -> [(name: String, address: UInt64)] {
        var m = message.cursor(file, what: "symbol table message")
        guard let btree = try m.address(), let heapAddress = try m.address() else {
            throw file.damaged("a symbol table message has no B-tree or local heap")
        }
        let heap = try localHeap(file, at: heapAddress)
        var links: [(String, UInt64)] = []
        for leaf in try HDF5BTreeV1.leaves(file, at: btree, nodeType: 0, keySize: file.lengthSize) {
            let what = "symbol table node at \(leaf.child)"
            var c = try file.cursor(at: leaf.child, what: what)
            try c.signature("SNOD")
            try c.skip(2)  // version, reserved
            let count = Int(try c.u16())
            for _ in 0..<count {
                let nameOffset = try c.length("link name offset")
                guard let header = try c.address() else { throw file.damaged("\(what) has an entry with no object header") }
                try c.skip(4 + 4 + 16)  // cache type, reserved, scratch pad
                links.append((try name(in: heap, at: nameOffset, file: file), header))
            }
        }
        return links
    }

    /// The data segment of a local heap.
    private static func localHeap(_ file: HDF5File, at address: UInt64) throws -> HDF5Cursor {
        var c = try file.cursor(at: address, what: "local heap at \(address)")
        try c.signature("HEAP")
        try c.skip(4)  // version, reserved
        let size = try c.length("data segment size")
        _ = try c.length("free list offset")
        guard let data = try c.address() else { throw file.damaged("local heap at \(address) has no data segment") }
        return try file.cursor(at: data, length: UInt64(size), what: "local heap data at \(data)")
    }

    private static func name(in heap: HDF5Cursor, at offset: Int, file: HDF5File) throws -> String {
        guard offset < heap.remaining else { throw file.damaged("a link name at offset \(offset) is past the \(heap.remaining)-byte local heap") }
        let bytes = file.bytes[(heap.position + offset) ..< heap.end]
        guard let end = bytes.firstIndex(of: 0) else { throw file.damaged("a link name in the local heap has no terminating null") }
        return String(decoding: bytes[..<end], as: UTF8.self)
    }
}
