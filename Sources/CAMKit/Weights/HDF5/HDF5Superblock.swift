/// The superblock: where the file's structures start and how wide its addresses and lengths
/// are. Versions 0 and 1 (h5py's default) point at the root group through a symbol table
/// entry; versions 2 and 3 (`libver="latest"`) through its object header address.
struct HDF5Superblock {
    static let signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]

    let version: UInt8
    let offsetSize: Int
    let lengthSize: Int
    /// Absolute file position that every address is relative to (the size of a user block).
    let baseAddress: Int
    let rootObjectHeader: UInt64

    init(file: HDF5File) throws {
        // The superblock is at 0 or, after a user block, at 512, 1024, 2048, …
        var at = 0
        while at + 8 <= file.fileSize, Array(file.bytes[at ..< at + 8]) != Self.signature {
            at = at == 0 ? 512 : at * 2
        }
        guard at + 8 <= file.fileSize else { throw HDF5Error(file: file.url, detail: "not an HDF5 file (no HDF5 signature)") }
        var c = HDF5Cursor(file: file, position: at + 8, end: file.fileSize, what: "superblock")
        version = try c.u8()
        switch version {
        case 0, 1:
            try c.skip(4)  // free-space, root symbol table entry and shared header versions, reserved
            offsetSize = Int(try c.u8())
            lengthSize = Int(try c.u8())
            try c.skip(1 + 2 + 2 + 4)  // reserved, group leaf and internal node K, consistency flags
            if version == 1 { try c.skip(4) }  // indexed storage internal node K, reserved
        case 2, 3:
            offsetSize = Int(try c.u8())
            lengthSize = Int(try c.u8())
            try c.skip(1)  // consistency flags
        default:
            throw HDF5Error.unsupported(file.url, "superblock version \(version)")
        }
        guard [2, 4, 8].contains(offsetSize), [2, 4, 8].contains(lengthSize) else {
            throw HDF5Error.damaged(file.url, "superblock declares \(offsetSize)-byte offsets and \(lengthSize)-byte lengths")
        }
        let width = offsetSize
        func address() throws -> UInt64? {
            let value = try c.uint(width)
            return value == (width == 8 ? .max : (1 << (8 * UInt64(width))) - 1) ? nil : value
        }
        let base = try address() ?? 0
        guard base <= UInt64(file.fileSize) else {
            throw HDF5Error.damaged(file.url, "superblock base address \(base) is past the end of the \(file.fileSize)-byte file")
        }
        baseAddress = Int(base)
        if version < 2 {
            _ = try address()  // free-space info
            _ = try address()  // end of file
            _ = try address()  // driver info
            _ = try address()  // root entry: link name offset
        } else {
            _ = try address()  // superblock extension
            _ = try address()  // end of file
        }
        guard let root = try address() else { throw HDF5Error.damaged(file.url, "the superblock has no root group") }
        rootObjectHeader = root
    }
}
