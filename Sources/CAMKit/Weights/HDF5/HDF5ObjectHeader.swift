/// One message of an object header: its type and where its bytes are.
struct HDF5Message {
    enum Kind: UInt16 {
        case dataspace = 0x01, linkInfo = 0x02, datatype = 0x03, link = 0x06, externalFiles = 0x07
        case layout = 0x08, filterPipeline = 0x0B, attribute = 0x0C, continuation = 0x10
        case symbolTable = 0x11, attributeInfo = 0x15
    }

    let type: UInt16
    let flags: UInt8
    let start: Int
    let size: Int

    var kind: Kind? { Kind(rawValue: type) }
    /// Bit 1: the message lives in the shared-message heap (h5py never writes these).
    var isShared: Bool { flags & 0x02 != 0 }

    func cursor(_ file: HDF5File, what: String) -> HDF5Cursor {
        HDF5Cursor(file: file, position: start, end: start + size, what: what)
    }
}

/// The messages of an object header, version 1 or 2, gathered from its first block and all
/// its continuation blocks.
enum HDF5ObjectHeader {
    static func messages(_ file: HDF5File, at address: UInt64) throws -> [HDF5Message] {
        let what = "object header at \(address)"
        var c = try file.cursor(at: address, what: what)
        var messages: [HDF5Message] = []
        var blocks: [HDF5Cursor] = []
        if c.remaining >= 4, Array(file.bytes[c.position ..< c.position + 4]) == Array("OHDR".utf8) {
            try c.skip(4)
            let headerVersion = try c.u8()
            guard headerVersion == 2 else { throw file.unsupported("\(what): OHDR version \(headerVersion)") }
            let flags = try c.u8()
            if flags & 0x20 != 0 { try c.skip(16) }  // access, modification, change and birth times
            if flags & 0x10 != 0 { try c.skip(4) }   // attribute phase change values
            let chunkSize = try c.uint(1 << Int(flags & 0x03))
            guard chunkSize <= UInt64(c.remaining) else {
                throw file.damaged("\(what): its first chunk of \(chunkSize) bytes runs past the end of the file")
            }
            blocks.append(try c.take(Int(chunkSize), what: what))
            try parseV2(file, blocks: &blocks, into: &messages, tracksCreationOrder: flags & 0x04 != 0)
        } else {
            let version = try c.u8()
            guard version == 1 else { throw file.unsupported("\(what): object header version \(version)") }
            try c.skip(1 + 2 + 4)  // reserved, message count, reference count
            let size = try c.u32()
            try c.skip(4)          // alignment of the first message to 8 bytes
            guard UInt64(size) <= UInt64(c.remaining) else {
                throw file.damaged("\(what): its \(size) bytes of messages run past the end of the file")
            }
            blocks.append(try c.take(Int(size), what: what))
            try parseV1(file, blocks: &blocks, into: &messages)
        }
        return messages
    }

    /// Follows a continuation message: the block it names is parsed next. A header may list
    /// a block only once, so a cycle of continuations ends in an error.
    private static func continuation(_ file: HDF5File, _ message: HDF5Message, signature: String?, seen: inout Set<UInt64>) throws -> HDF5Cursor {
        var m = message.cursor(file, what: "continuation message")
        guard let address = try m.address() else { throw file.damaged("a continuation message has no address") }
        let length = try m.length("continuation length")
        guard seen.insert(address).inserted else { throw file.damaged("object header continuation block at \(address) is listed twice") }
        var block = try file.cursor(at: address, length: UInt64(length), what: "object header continuation block at \(address)")
        if let signature {
            try block.signature(signature)
            guard block.remaining >= 4 else { throw file.damaged("continuation block at \(address) has no room for its checksum") }
            return HDF5Cursor(file: file, position: block.position, end: block.end - 4, what: block.what)
        }
        return block
    }

    private static func append(_ message: HDF5Message, to messages: inout [HDF5Message], file: HDF5File) throws {
        guard messages.count < HDF5File.maxMessagesPerHeader else {
            throw file.damaged("an object header has more than \(HDF5File.maxMessagesPerHeader) messages")
        }
        messages.append(message)
    }

    private static func parseV1(_ file: HDF5File, blocks: inout [HDF5Cursor], into messages: inout [HDF5Message]) throws {
        var seen = Set<UInt64>()
        while !blocks.isEmpty {
            var c = blocks.removeFirst()
            while c.remaining >= 8 {
                let type = try c.u16()
                let size = Int(try c.u16())
                let flags = try c.u8()
                try c.skip(3)
                guard size <= c.remaining else {
                    throw file.damaged("\(c.what): a message of type \(type) declares \(size) bytes, but \(c.remaining) are left")
                }
                let message = HDF5Message(type: type, flags: flags, start: c.position, size: size)
                try c.skip(size)
                if message.kind == .continuation {
                    blocks.append(try continuation(file, message, signature: nil, seen: &seen))
                } else {
                    try append(message, to: &messages, file: file)
                }
            }
        }
    }

    private static func parseV2(_ file: HDF5File, blocks: inout [HDF5Cursor], into messages: inout [HDF5Message], tracksCreationOrder: Bool) throws {
        var seen = Set<UInt64>()
        let headerSize = tracksCreationOrder ? 6 : 4
        while !blocks.isEmpty {
            var c = blocks.removeFirst()
            // What is left when less than a message header fits is a gap.
            while c.remaining >= headerSize {
                let type = UInt16(try c.u8())
                let size = Int(try c.u16())
                let flags = try c.u8()
                if tracksCreationOrder { try c.skip(2) }
                guard size <= c.remaining else {
                    throw file.damaged("\(c.what): a message of type \(type) declares \(size) bytes, but \(c.remaining) are left")
                }
                let message = HDF5Message(type: type, flags: flags, start: c.position, size: size)
                try c.skip(size)
                if message.kind == .continuation {
                    blocks.append(try continuation(file, message, signature: "OCHK", seen: &seen))
                } else {
                    try append(message, to: &messages, file: file)
                }
            }
        }
    }
}
