import Foundation

/// An HDF5 file held in memory, with the sizes its superblock sets and the limits that keep a
/// hostile file from costing more than a bounded amount of work and memory.
///
/// Every structure is read through `cursor(at:length:what:)`, which refuses a range that is
/// not inside the file, so no parser below can read past the bytes it was given.
public final class HDF5File {
    public let url: URL
    let bytes: [UInt8]
    /// Set once the superblock is parsed; optional until then because parsing it goes through
    /// `cursor`, which reads the base address from it.
    private(set) var superblock: HDF5Superblock!

    /// Files larger than this are refused before they are read (the largest Keras model we
    /// load is a few tens of MB).
    static let maxFileSize = 1 << 32
    /// Depth of nested structures (B-tree levels, fractal heap indirect blocks, datatypes).
    static let maxDepth = 32
    /// Object header messages, across all of one header's continuation blocks.
    static let maxMessagesPerHeader = 1 << 16
    /// Elements of one dataset: 8 GB of float32, far above any model this reads.
    static let maxElements = 1 << 31
    /// Bytes all datasets read from one file may decode to: what deflate's largest ratio
    /// allows from the whole file, so a file cannot make many datasets share one compressed
    /// chunk and multiply it.
    private var allocationBudget: Int {
        let (budget, overflow) = bytes.count.multipliedReportingOverflow(by: HDF5FilterPipeline.maxDeflateRatio)
        return overflow ? 1 << 34 : min(budget, 1 << 34)
    }
    private var allocated = 0

    var fileSize: Int { bytes.count }

    /// Counts `count` more decoded bytes against the file's budget, before they are allocated.
    func allocate(_ count: Int, for what: String) throws {
        let (total, overflow) = allocated.addingReportingOverflow(count)
        guard !overflow, total <= allocationBudget else {
            throw damaged("\(what) would bring the bytes decoded from this file to more than \(allocationBudget)")
        }
        allocated = total
    }

    public init(contentsOf url: URL) throws {
        self.url = url
        do {
            bytes = [UInt8](try BoundedRead.data(url, limit: Self.maxFileSize))
        } catch let refusal as BoundedRead.Refusal {
            throw HDF5Error(file: url, detail: "cannot read file (\(refusal.description))")
        }
        superblock = try HDF5Superblock(file: self)
    }

    /// A file already in memory, such as the weights inside a `.keras` archive; `url` names
    /// it in errors.
    init(bytes: [UInt8], url: URL) throws {
        self.url = url
        self.bytes = bytes
        superblock = try HDF5Superblock(file: self)
    }

    var offsetSize: Int { superblock.offsetSize }
    var lengthSize: Int { superblock.lengthSize }

    func damaged(_ detail: String) -> HDF5Error { .damaged(url, detail) }
    func unsupported(_ feature: String) -> HDF5Error { .unsupported(url, feature) }

    /// A cursor over `length` bytes at file address `address` (relative to the superblock's
    /// base address), or over everything from it to the end of the file.
    func cursor(at address: UInt64, length: UInt64? = nil, what: String) throws -> HDF5Cursor {
        let base = UInt64(superblock?.baseAddress ?? 0)
        let (start, overflow) = address.addingReportingOverflow(base)
        guard !overflow, start <= UInt64(bytes.count) else {
            throw damaged("\(what) at address \(address) is past the end of the \(bytes.count)-byte file")
        }
        let available = UInt64(bytes.count) - start
        if let length, length > available {
            throw damaged("\(what) at address \(address) declares \(length) bytes, but the file has \(available) from there")
        }
        return HDF5Cursor(file: self, position: Int(start), end: Int(start) + Int(length ?? available), what: what)
    }

    /// The root group.
    public func root() throws -> HDF5Object {
        try HDF5Object(file: self, address: superblock.rootObjectHeader, path: "/")
    }

    /// The object at an absolute path such as `/model_weights/dense`, or nil when a link on
    /// the way does not exist.
    public func object(at path: String) throws -> HDF5Object? {
        var object = try root()
        for name in path.split(separator: "/") {
            guard let child = try object.child(named: String(name)) else { return nil }
            object = child
        }
        return object
    }
}

/// Reads little-endian fields from one structure of the file, never past its end.
struct HDF5Cursor {
    let file: HDF5File
    var position: Int
    let end: Int
    /// What is being read, for error messages ("object header at 96").
    let what: String

    var remaining: Int { end - position }

    private func ensure(_ count: Int) throws {
        guard count >= 0, count <= end - position else {
            throw file.damaged("\(what) ends after \(end - position) more bytes, but \(count) are needed at byte \(position)")
        }
    }

    mutating func skip(_ count: Int) throws {
        try ensure(count)
        position += count
    }

    mutating func u8() throws -> UInt8 {
        try ensure(1)
        defer { position += 1 }
        return file.bytes[position]
    }

    mutating func u16() throws -> UInt16 { UInt16(try uint(2)) }
    mutating func u32() throws -> UInt32 { UInt32(try uint(4)) }

    /// An unsigned little-endian integer of `size` bytes (1 to 8).
    mutating func uint(_ size: Int) throws -> UInt64 {
        guard (0...8).contains(size) else { throw file.damaged("\(what) has an integer field of \(size) bytes") }
        try ensure(size)
        var value: UInt64 = 0
        for i in 0..<size { value |= UInt64(file.bytes[position + i]) << (8 * UInt64(i)) }
        position += size
        return value
    }

    /// A file address, or nil for the undefined address (all bits set).
    mutating func address() throws -> UInt64? {
        let size = file.offsetSize
        let value = try uint(size)
        let undefined: UInt64 = size == 8 ? .max : (1 << (8 * UInt64(size))) - 1
        return value == undefined ? nil : value
    }

    /// A length field, as an `Int` no larger than the file (no length of a structure in a
    /// file can exceed the file).
    mutating func length(_ field: String) throws -> Int {
        let value = try uint(file.lengthSize)
        guard value <= UInt64(file.fileSize) else {
            throw file.damaged("\(what): \(field) is \(value), more than the \(file.fileSize)-byte file")
        }
        return Int(value)
    }

    mutating func bytes(_ count: Int) throws -> ArraySlice<UInt8> {
        try ensure(count)
        defer { position += count }
        return file.bytes[position ..< position + count]
    }

    /// Checks a 4-byte signature such as "OHDR".
    mutating func signature(_ expected: String) throws {
        let found = try bytes(4)
        guard Array(found) == Array(expected.utf8) else {
            throw file.damaged("\(what) should start with '\(expected)', found \(Array(found))")
        }
    }

    /// A sub-cursor over the next `count` bytes, which this cursor then skips.
    mutating func take(_ count: Int, what: String) throws -> HDF5Cursor {
        try ensure(count)
        defer { position += count }
        return HDF5Cursor(file: file, position: position, end: position + count, what: what)
    }
}
