import Foundation

/// An ONNX model as a source of graphs: checked once when opened (opset, operators), then
/// specialised to each input shape asked for.
public final class ONNXGraphSource: GraphSource {
    public let model: ONNXModel
    /// The default domain's opset.
    public let opset: Int
    /// The most elements any value of a graph may hold; a graph asking for more is refused when
    /// it is made (1 GiB of floats unless lowered, as the fuzzer does).
    public var maxValueElements = 1 << 28
    /// The opsets whose operator semantics `ONNXSpecializer` follows.
    public static let supportedOpsets = 13...23

    /// - Throws: `ONNXImportError` naming the first operator, domain or opset we do not run.
    public init(model: ONNXModel) throws {
        self.model = model
        guard let opset = model.opsets[""] else {
            throw ONNXImportError(file: model.url, node: nil, problem: "the model imports no opset of the default ONNX domain")
        }
        guard Self.supportedOpsets.contains(opset) else {
            throw ONNXImportError(file: model.url, node: nil, problem:
                "opset \(opset) is not supported (opsets \(Self.supportedOpsets.lowerBound)–\(Self.supportedOpsets.upperBound) are)")
        }
        self.opset = opset
        for node in model.graph.nodes {
            let at = "\(node.label) at opset \(opset)"
            guard node.domain.isEmpty || node.domain == "ai.onnx" else {
                throw ONNXImportError(file: model.url, node: at, problem: "operators of the domain '\(node.domain)' are not supported")
            }
            guard ONNXSpecializer.supportedOperators.contains(node.opType) else {
                throw ONNXImportError(file: model.url, node: at, problem: "the operator \(node.opType) is not supported")
            }
            if let (key, attribute) = node.attributes.first(where: { if case .unsupported = $0.value { return true }; return false }),
               case .unsupported(let kind) = attribute {
                throw ONNXImportError(file: model.url, node: at, problem: "attribute \(key) of type \(kind) is not supported")
            }
        }
    }

    public func graph(forInputShape shape: [Int]) throws -> Graph {
        var specializer = ONNXSpecializer(model: model, opset: opset, maxValueElements: maxValueElements)
        return try specializer.specialize(inputShape: shape)
    }

    /// The input shape the file declares, (N, C, H, W) with the batch at 1; nil where the file
    /// leaves a dimension other than the batch open.
    public var declaredInputShape: [Int]? {
        guard let dims = model.graph.inputs.first?.dims, dims.count == 4 else { return nil }
        var shape: [Int] = [1]
        for d in dims.dropFirst() {
            guard case .value(let v) = d, v > 0 else { return nil }
            shape.append(v)
        }
        return shape
    }
}
