/// An attribute: a small named value in an object header (compact) or, when an object has
/// many or large ones, in a fractal heap indexed by a B-tree v2 (dense). Keras keeps its
/// structure in them: `model_config` (a JSON string), `layer_names` and `weight_names`
/// (string arrays, fixed-length in Keras 2, variable-length in Keras 3).
public struct HDF5Attribute {
    public let name: String
    let datatype: HDF5Datatype
    let dataspace: HDF5Dataspace
    let data: HDF5Cursor

    init(_ message: HDF5Cursor) throws {
        var c = message
        let file = c.file
        let version = try c.u8()
        guard (1...3).contains(version) else { throw file.unsupported("attribute message version \(version)") }
        let flags = try c.u8()  // reserved in version 1
        guard version == 1 || flags & 0x03 == 0 else { throw file.unsupported("an attribute with a shared datatype or dataspace") }
        let nameSize = Int(try c.u16())
        let datatypeSize = Int(try c.u16())
        let dataspaceSize = Int(try c.u16())
        if version == 3 { try c.skip(1) }  // name character set
        func padded(_ n: Int) -> Int { version == 1 ? (n + 7) / 8 * 8 : n }
        guard nameSize > 0 else { throw file.damaged("an attribute with an empty name") }
        let nameBytes = try c.take(padded(nameSize), what: "attribute name")
        let raw = file.bytes[nameBytes.position ..< nameBytes.position + nameSize]
        name = String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        var typeBytes = try c.take(padded(datatypeSize), what: "datatype of attribute '\(name)'")
        datatype = try HDF5Datatype.parse(&typeBytes)
        var spaceBytes = try c.take(padded(dataspaceSize), what: "dataspace of attribute '\(name)'")
        dataspace = try HDF5Dataspace.parse(&spaceBytes)
        data = HDF5Cursor(file: file, position: c.position, end: c.end, what: "value of attribute '\(name)'")
    }

    /// The attributes in dense storage named by an attribute info message.
    static func dense(_ file: HDF5File, attributeInfo: HDF5Message) throws -> [HDF5Attribute] {
        var m = attributeInfo.cursor(file, what: "attribute info message")
        try m.skip(1)  // version
        let flags = try m.u8()
        if flags & 0x01 != 0 { try m.skip(2) }  // maximum creation index
        guard let heapAddress = try m.address() else { return [] }
        guard let nameIndex = try m.address() else { throw file.damaged("an attribute info message names a heap but no name index") }
        let heap = try HDF5FractalHeap(file, at: heapAddress)
        return try HDF5BTreeV2.records(file, at: nameIndex, type: 8).map { record in
            try HDF5Attribute(try heap.object(record))
        }
    }

    /// The value as strings: one per element of a fixed- or variable-length string attribute.
    /// An empty attribute of any type is an empty list (h5py writes `[]` as an empty float array).
    public func strings() throws -> [String] {
        let file = data.file
        guard let count = dataspace.count, count <= file.fileSize else {
            throw file.damaged("attribute '\(name)' declares \(dataspace.dims) elements")
        }
        if count == 0 { return [] }
        let (total, overflow) = count.multipliedReportingOverflow(by: datatype.size)
        guard !overflow, total <= data.remaining else {
            throw file.damaged("attribute '\(name)' declares \(count) elements of \(datatype.size) bytes, but its message holds \(data.remaining)")
        }
        var c = data
        switch datatype {
        case let .fixedString(size):
            // Null-padded: a string that fills its field has no null at all.
            return try (0..<count).map { _ in
                let bytes = try c.bytes(size)
                return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
            }
        case let .variableString(size):
            var heap = HDF5GlobalHeap(file)
            return try (0..<count).map { _ in
                var element = try c.take(size, what: "element of attribute '\(name)'")
                let length = Int(try element.u32())
                guard let collection = try element.address() else { return "" }
                let index = try element.u32()
                guard index <= UInt32(UInt16.max) else { throw file.damaged("attribute '\(name)' names global heap object \(index)") }
                var object = try heap.object(collection: collection, index: UInt16(index))
                guard length <= object.remaining else {
                    throw file.damaged("a string of attribute '\(name)' declares \(length) bytes, but its heap object holds \(object.remaining)")
                }
                return String(decoding: try object.bytes(length).prefix { $0 != 0 }, as: UTF8.self)
            }
        default:
            throw HDF5Error(file: file.url, detail: "attribute '\(name)' is not a string (it holds a \(datatype.name))")
        }
    }
}
