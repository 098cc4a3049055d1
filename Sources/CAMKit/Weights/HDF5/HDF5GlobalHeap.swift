/// Global heap collections, where variable-length strings keep their bytes. Each collection
/// is parsed once per reader and its objects looked up by index.
struct HDF5GlobalHeap {
    private let file: HDF5File
    private var collections: [UInt64: [UInt16: HDF5Cursor]] = [:]

    init(_ file: HDF5File) { self.file = file }

    /// The object with `index` in the collection at `address`.
    mutating func object(collection address: UInt64, index: UInt16) throws -> HDF5Cursor {
        if collections[address] == nil { collections[address] = try parse(at: address) }
        guard let object = collections[address]?[index] else {
            throw file.damaged("global heap collection at \(address) has no object \(index)")
        }
        return object
    }

    private func parse(at address: UInt64) throws -> [UInt16: HDF5Cursor] {
        let what = "global heap collection at \(address)"
        var header = try file.cursor(at: address, what: what)
        try header.signature("GCOL")
        try header.skip(4)  // version, reserved
        let size = try header.length("collection size")
        let headerSize = 8 + file.lengthSize
        guard size >= headerSize else { throw file.damaged("\(what) declares \(size) bytes") }
        var c = try file.cursor(at: address, length: UInt64(size), what: what)
        try c.skip(headerSize)
        var objects: [UInt16: HDF5Cursor] = [:]
        while c.remaining >= 8 + file.lengthSize {
            let index = try c.u16()
            if index == 0 { break }  // free space: the rest of the collection
            try c.skip(2 + 4)  // reference count, reserved
            let objectSize = try c.length("object size")
            objects[index] = try c.take(objectSize, what: "global heap object \(index) at \(address)")
            try c.skip(min((8 - objectSize % 8) % 8, c.remaining))  // padding to a multiple of 8
        }
        return objects
    }
}
