import Foundation

/// Turns a parsed `Onnx_ModelProto` into `ONNXModel`, checking it as it goes. One decoder
/// reads one model: it keeps the model's external data files open until it is released and
/// counts the bytes its tensors take against `ONNXLimits.maxTotalBytes`.
final class ONNXDecoder {
    let file: URL
    let limits: ONNXLimits
    let externalData: ONNXExternalData
    /// Bytes of all tensors decoded so far.
    var decodedBytes = 0

    init(file: URL, limits: ONNXLimits) {
        self.file = file
        self.limits = limits
        externalData = ONNXExternalData(model: file)
    }

    func error(_ problem: String) -> ONNXError { ONNXError(file, problem) }

    func model(_ proto: Onnx_ModelProto) throws -> ONNXModel {
        guard proto.hasGraph else { throw error("the model has no graph") }
        let opsets = try self.opsets(proto.opsetImport)
        let graph = try self.graph(proto.graph)
        for node in graph.nodes where opsets[node.domain] == nil {
            throw error("\(node.label) is in domain '\(node.domain)', for which the model imports no opset")
        }
        return ONNXModel(
            url: file, irVersion: proto.irVersion, producerName: proto.producerName,
            producerVersion: proto.producerVersion, opsets: opsets,
            metadata: Self.metadata(proto.metadataProps), graph: graph
        )
    }

    /// `ai.onnx` is another name of the default domain `""`.
    static func domain(_ name: String) -> String { name == "ai.onnx" ? "" : name }

    /// Later entries win, as they would in the Python `dict` most tools build from them.
    static func metadata(_ entries: [Onnx_StringStringEntryProto]) -> [String: String] {
        Dictionary(entries.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
    }

    private func opsets(_ imports: [Onnx_OperatorSetIdProto]) throws -> [String: Int] {
        var opsets: [String: Int] = [:]
        for entry in imports {
            let domain = Self.domain(entry.domain)
            guard entry.version >= 1, let version = Int(exactly: entry.version) else {
                throw error("the opset import of domain '\(domain)' has version \(entry.version)")
            }
            if let earlier = opsets[domain], earlier != version {
                throw error("domain '\(domain)' is imported at opset \(earlier) and at opset \(version)")
            }
            opsets[domain] = version
        }
        return opsets
    }

    private func graph(_ proto: Onnx_GraphProto) throws -> ONNXGraph {
        if let sparse = proto.sparseInitializer.first {
            throw error("sparse initializer '\(sparse.values.name)': sparse initializers are not supported")
        }
        var initializers: [String: ONNXTensor] = [:]
        for tensorProto in proto.initializer {
            guard !tensorProto.name.isEmpty else { throw error("an initializer has no name") }
            guard initializers[tensorProto.name] == nil else {
                throw error("initializer '\(tensorProto.name)' is defined twice")
            }
            initializers[tensorProto.name] = try tensor(tensorProto, label: "initializer '\(tensorProto.name)'")
        }
        let declaredInputs = try uniqueValueInfos(proto.input, role: "graph input")
        let outputs = try uniqueValueInfos(proto.output, role: "graph output")
        guard !outputs.isEmpty else { throw error("the graph has no outputs") }
        let valueInfos = try uniqueValueInfos(proto.valueInfo, role: "value_info entry")
        let nodes = try proto.node.enumerated().map { try node($1, index: $0) }
        let defined = Set(declaredInputs.map(\.name)).union(initializers.keys)
        return ONNXGraph(
            name: proto.name,
            nodes: try ONNXGraphOrder.sorted(nodes, defined: defined, outputs: outputs.map(\.name), file: file),
            initializers: initializers,
            inputs: declaredInputs.filter { initializers[$0.name] == nil },
            outputs: outputs,
            valueInfo: Dictionary(uniqueKeysWithValues: valueInfos.map { ($0.name, $0) })
        )
    }

    private func uniqueValueInfos(_ protos: [Onnx_ValueInfoProto], role: String) throws -> [ONNXValueInfo] {
        var seen = Set<String>()
        return try protos.map { proto in
            let info = try valueInfo(proto, role: role)
            guard seen.insert(info.name).inserted else { throw error("\(role) '\(info.name)' is listed twice") }
            return info
        }
    }

    private func node(_ proto: Onnx_NodeProto, index: Int) throws -> ONNXNode {
        guard !proto.opType.isEmpty else { throw error("node #\(index) ('\(proto.name)') has no op type") }
        let label = ONNXNode.label(name: proto.name, opType: proto.opType, index: index)
        var attributes: [String: ONNXAttribute] = [:]
        for attributeProto in proto.attribute {
            guard !attributeProto.name.isEmpty else { throw error("an attribute of \(label) has no name") }
            guard attributes[attributeProto.name] == nil else {
                throw error("attribute '\(attributeProto.name)' of \(label) is given twice")
            }
            attributes[attributeProto.name] = try attribute(attributeProto, label: "attribute '\(attributeProto.name)' of \(label)")
        }
        return ONNXNode(
            name: proto.name, opType: proto.opType, domain: Self.domain(proto.domain),
            inputs: proto.input, outputs: proto.output, attributes: attributes,
            metadata: Self.metadata(proto.metadataProps), index: index
        )
    }
}
