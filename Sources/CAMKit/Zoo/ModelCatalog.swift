/// Every model a user can name: the built-in zoo, then the models of an optional zoo file.
public struct ModelCatalog: Sendable {
    public let descriptors: [ModelDescriptor]

    public init(zooFile: ZooFile? = nil) throws {
        let builtIn = ModelZoo.entries.map(ModelDescriptor.init)
        let user = zooFile?.descriptors ?? []
        if let clash = user.first(where: { u in builtIn.contains { $0.name == u.name } }) {
            throw ZooFileError(file: zooFile!.url, model: clash.name, reason: "a built-in model has that name")
        }
        descriptors = builtIn + user
    }

    public func descriptor(named name: String) throws -> ModelDescriptor {
        guard let found = descriptors.first(where: { $0.name == name }) else {
            throw ExplainError.unknownModel(name, known: descriptors.map(\.name))
        }
        return found
    }

    /// `all` (or an empty list) means every model; otherwise comma-separated names. Models
    /// whose weights are absent come back apart, so callers can say how to fetch them.
    public func select(_ list: String) throws -> (available: [ModelDescriptor], missing: [ModelDescriptor]) {
        let names = list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let chosen = names.isEmpty || names == ["all"] ? descriptors : try names.map(descriptor(named:))
        return (chosen.filter(\.weightsArePresent), chosen.filter { !$0.weightsArePresent })
    }
}
