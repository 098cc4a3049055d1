/// The element types this reader decodes, parsed from a datatype message. Other classes are
/// kept by number so that listing an object's attributes never fails on a type it does not
/// need; reading a value of such a type is an error naming the class.
indirect enum HDF5Datatype {
    case integer(size: Int, bigEndian: Bool, signed: Bool)
    case float(size: Int, bigEndian: Bool)
    /// Fixed-length string: `size` bytes, padded with nulls (or spaces).
    case fixedString(size: Int)
    /// Variable-length string: each element is a length and a global heap ID.
    case variableString(size: Int)
    case other(typeClass: Int, size: Int)

    static let classNames = ["fixed-point", "floating-point", "time", "string", "bitfield", "opaque",
                             "compound", "reference", "enumerated", "variable-length", "array"]

    var size: Int {
        switch self {
        case let .integer(size, _, _), let .float(size, _), let .fixedString(size),
             let .variableString(size), let .other(_, size): return size
        }
    }

    var name: String {
        switch self {
        case let .integer(size, bigEndian, signed): return "\(signed ? "" : "unsigned ")\(8 * size)-bit integer\(bigEndian ? " (big-endian)" : "")"
        case let .float(size, bigEndian): return "\(8 * size)-bit float\(bigEndian ? " (big-endian)" : "")"
        case .fixedString: return "fixed-length string"
        case .variableString: return "variable-length string"
        case let .other(typeClass, _): return typeClass < Self.classNames.count ? Self.classNames[typeClass] : "class \(typeClass)"
        }
    }

    static func parse(_ c: inout HDF5Cursor, depth: Int = 0) throws -> HDF5Datatype {
        guard depth < HDF5File.maxDepth else { throw c.file.damaged("datatypes nested more than \(HDF5File.maxDepth) deep") }
        let classAndVersion = try c.u8()
        let typeClass = Int(classAndVersion & 0x0F)
        let bits = try c.uint(3)
        let size = Int(try c.u32())
        guard size > 0, size <= c.file.fileSize else { throw c.file.damaged("\(c.what): a datatype of \(size) bytes") }
        switch typeClass {
        case 0:
            try c.skip(4)  // bit offset, precision
            return .integer(size: size, bigEndian: bits & 0x01 != 0, signed: bits & 0x08 != 0)
        case 1:
            let bitOffset = try c.u16(), precision = try c.u16()
            let exponentLocation = try c.u8(), exponentSize = try c.u8(), mantissaLocation = try c.u8(), mantissaSize = try c.u8()
            try c.skip(4)  // exponent bias
            let ieee: [Int: (UInt8, UInt8)] = [2: (5, 10), 4: (8, 23), 8: (11, 52)]
            // Bits 0 and 6 give the byte order; both set is VAX order.
            guard bits & 0x40 == 0, let (exponent, mantissa) = ieee[size], bitOffset == 0, precision == 8 * size,
                  exponentSize == exponent, mantissaSize == mantissa, mantissaLocation == 0,
                  exponentLocation == mantissa else {
                throw c.file.unsupported("\(c.what): a \(size)-byte float that is not IEEE 754 binary\(8 * size)")
            }
            return .float(size: size, bigEndian: bits & 0x01 != 0)
        case 3:
            return .fixedString(size: size)
        case 9:
            let isString = bits & 0x0F == 1
            _ = try parse(&c, depth: depth + 1)  // base type: characters for a string
            guard size >= 4 + c.file.offsetSize + 4 else { throw c.file.damaged("\(c.what): a variable-length type of \(size) bytes") }
            return isString ? .variableString(size: size) : .other(typeClass: 9, size: size)
        default:
            return .other(typeClass: typeClass, size: size)
        }
    }
}

/// The shape of a dataset or attribute.
struct HDF5Dataspace {
    let dims: [Int]
    /// A null dataspace holds no element (h5py's `Empty`); a scalar one holds one.
    let isNull: Bool

    /// The element count, or nil when it overflows.
    var count: Int? {
        if isNull { return 0 }
        var total = 1
        for d in dims {
            let (product, overflow) = total.multipliedReportingOverflow(by: d)
            if overflow { return nil }
            total = product
        }
        return total
    }

    static func parse(_ c: inout HDF5Cursor) throws -> HDF5Dataspace {
        let version = try c.u8()
        let rank = Int(try c.u8())
        try c.skip(1)  // flags: maximum dims (and in version 1 a permutation) follow the dims, unused here
        var isNull = false
        switch version {
        case 1: try c.skip(5)
        case 2: isNull = try c.u8() == 2
        default: throw c.file.unsupported("\(c.what): dataspace version \(version)")
        }
        guard rank <= 32 else { throw c.file.damaged("\(c.what): a dataspace of rank \(rank)") }
        var dims: [Int] = []
        for _ in 0..<rank {
            let d = try c.uint(c.file.lengthSize)
            guard d <= UInt64(Int.max) else { throw c.file.damaged("\(c.what): a dimension of \(d)") }
            dims.append(Int(d))
        }
        return HDF5Dataspace(dims: dims, isNull: isNull)
    }
}
