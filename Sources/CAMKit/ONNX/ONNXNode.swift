/// One node of an ONNX graph.
public struct ONNXNode: Sendable {
    /// May be empty: the format does not require names.
    public let name: String
    public let opType: String
    /// `""` for the default ONNX domain (the file may say `ai.onnx`; the reader normalises it).
    public let domain: String
    /// `""` marks an omitted optional input; positions are kept, as operators define them.
    public let inputs: [String]
    /// `""` marks an omitted optional output.
    public let outputs: [String]
    public let attributes: [String: ONNXAttribute]
    /// The node's `metadata_props`, such as the module scope torch's exporter records in
    /// `pkg.torch.onnx.name_scopes`. A repeated key keeps its last value.
    public let metadata: [String: String]
    /// The node's position in the file's node list, which names it in messages when it has
    /// no name (the reader returns the nodes in topological order, not in the file's).
    public let index: Int

    /// How messages name the node.
    var label: String { Self.label(name: name, opType: opType, index: index) }

    static func label(name: String, opType: String, index: Int) -> String {
        name.isEmpty ? "node #\(index) (\(opType))" : "node '\(name)' (\(opType))"
    }
}
