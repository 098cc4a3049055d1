/// A group or dataset: an object header and the path it was reached by.
public final class HDF5Object {
    let file: HDF5File
    public let path: String
    /// The object header's address: the object's identity, whatever path reached it.
    public let address: UInt64
    let messages: [HDF5Message]

    init(file: HDF5File, address: UInt64, path: String) throws {
        self.file = file
        self.path = path
        self.address = address
        messages = try HDF5ObjectHeader.messages(file, at: address)
        if let shared = messages.first(where: { $0.isShared }) {
            throw file.unsupported("'\(path)' uses a shared message (type \(shared.type))")
        }
    }

    func message(_ kind: HDF5Message.Kind) -> HDF5Message? { messages.first { $0.kind == kind } }

    /// The object's links by name: from a symbol table, link messages, or dense storage.
    public func links() throws -> [(name: String, address: UInt64)] {
        var links: [(String, UInt64)] = []
        if let table = message(.symbolTable) { links += try HDF5SymbolTable.links(file, message: table) }
        for link in messages where link.kind == .link {
            var c = link.cursor(file, what: "link message of '\(path)'")
            links.append(try HDF5Links.parse(&c))
        }
        if let info = message(.linkInfo) { links += try HDF5Links.dense(file, linkInfo: info) }
        return links
    }

    public func child(named name: String) throws -> HDF5Object? {
        guard let link = try links().first(where: { $0.name == name }) else { return nil }
        return try HDF5Object(file: file, address: link.address, path: (path == "/" ? "" : path) + "/" + name)
    }

    public func attributes() throws -> [HDF5Attribute] {
        var attributes = try messages.filter { $0.kind == .attribute }.map {
            try HDF5Attribute($0.cursor(file, what: "attribute message of '\(path)'"))
        }
        if let info = message(.attributeInfo) { attributes += try HDF5Attribute.dense(file, attributeInfo: info) }
        return attributes
    }

    public func attribute(named name: String) throws -> HDF5Attribute? {
        try attributes().first { $0.name == name }
    }
}
