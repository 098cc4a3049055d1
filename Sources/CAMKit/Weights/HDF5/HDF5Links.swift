/// The links of a group stored as link messages (libhdf5 1.8 and later): in the object
/// header when there are few ("compact"), else in a fractal heap indexed by name in a
/// B-tree v2 ("dense", named by the link info message).
enum HDF5Links {
    /// A link message's name and, for a hard link, the object header it points to.
    static func parse(_ c: inout HDF5Cursor) throws -> (name: String, address: UInt64) {
        let version = try c.u8()
        guard version == 1 else { throw c.file.unsupported("link message version \(version)") }
        let flags = try c.u8()
        let type = flags & 0x08 != 0 ? try c.u8() : 0
        if flags & 0x04 != 0 { try c.skip(8) }  // creation order
        if flags & 0x10 != 0 { try c.skip(1) }  // name character set
        let nameLength = try c.uint(1 << Int(flags & 0x03))
        guard nameLength > 0, nameLength <= UInt64(c.remaining) else {
            throw c.file.damaged("a link name of \(nameLength) bytes in a \(c.remaining)-byte message")
        }
        let name = String(decoding: try c.bytes(Int(nameLength)), as: UTF8.self)
        switch type {
        case 0:
            guard let address = try c.address() else { throw c.file.damaged("hard link '\(name)' has no address") }
            return (name, address)
        case 1: throw c.file.unsupported("soft link '\(name)'")
        case 64: throw c.file.unsupported("external link '\(name)' (to another file)")
        default: throw c.file.unsupported("link '\(name)' of type \(type)")
        }
    }

    /// The links in dense storage named by a link info message (none when it names no heap).
    static func dense(_ file: HDF5File, linkInfo: HDF5Message) throws -> [(name: String, address: UInt64)] {
        var m = linkInfo.cursor(file, what: "link info message")
        try m.skip(1)  // version
        let flags = try m.u8()
        if flags & 0x01 != 0 { try m.skip(8) }  // maximum creation index
        guard let heapAddress = try m.address() else { return [] }
        guard let nameIndex = try m.address() else { throw file.damaged("a link info message names a heap but no name index") }
        let heap = try HDF5FractalHeap(file, at: heapAddress)
        return try HDF5BTreeV2.records(file, at: nameIndex, type: 5).map { record in
            var id = record
            try id.skip(4)  // name hash
            var link = try heap.object(id)
            return try parse(&link)
        }
    }
}
