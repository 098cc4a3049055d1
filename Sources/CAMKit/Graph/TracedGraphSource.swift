/// A native model in graph form, from one traced pass: the graph at the traced input shape, and
/// at other batch sizes the same nodes with their shapes inferred anew, when the trace left the
/// batch free (every value that depends on the input keeps it on axis 0). Layers are named by
/// module path (`_head_act`, `backbone.stages.3`).
public final class TracedGraphSource: GraphSource {
    /// A parameter whose value the graph holds as a constant, by reference.
    struct Weight {
        let parameter: Parameter
        let tensor: Tensor
    }

    /// The graph at the traced input shape.
    public let graph: Graph
    /// The module paths that name a value of the graph: modules called once, returning a value
    /// made during their call.
    public let layers: [String]
    /// Whether the graph may be run at batch sizes other than the traced one.
    public let keepsBatchFree: Bool
    /// Whether each value has the batch on axis 0.
    private let batched: [Bool]
    private let weights: [Weight]

    init(graph: Graph, batched: [Bool], keepsBatchFree: Bool, layers: [String], weights: [Weight]) {
        self.graph = graph
        self.batched = batched
        self.keepsBatchFree = keepsBatchFree
        self.layers = layers
        self.weights = weights
    }

    /// The graph of one forward pass of `model` on `input`.
    /// - Throws: `GraphTraceError` when the pass cannot be replayed from a graph.
    public static func trace(_ model: Module, input: Tensor) throws -> TracedGraphSource {
        try GraphTracer.trace(model, input: input) { model(input) }.graph.get()
    }

    /// Whether the model still has the weights the graph holds (loading replaces them).
    var hasCurrentWeights: Bool { weights.allSatisfy { $0.parameter.value === $0.tensor } }

    public func graph(forInputShape shape: [Int]) throws -> Graph {
        let traced = graph.shapes[graph.input]
        if shape == traced { return graph }
        guard shape.count == traced.count, shape.dropFirst() == traced.dropFirst(), let batch = shape.first else {
            throw GraphShapeError("the model was traced at input \(traced); only its batch size may change, not to \(shape)")
        }
        guard keepsBatchFree else {
            throw GraphShapeError("the traced graph fixes the batch size at \(traced[0])")
        }
        var specialised = graph
        specialised.shapes[graph.input] = shape
        for node in graph.nodes {
            let shape = try node.op.outputShape(node.inputs.map { specialised.shapes[$0] })
            guard !batched[node.output] || shape.first == batch else {
                throw GraphShapeError("\(node.op.name) in '\(node.origin)' loses the batch size \(batch): \(shape)")
            }
            specialised.shapes[node.output] = shape
        }
        return specialised
    }
}
