import Foundation

/// Turns an ONNX graph into a `Graph` for one input shape: each node either folds into a known
/// value (everything computed from initializers and shapes) or becomes a graph op whose output
/// shape is checked on the spot, so a graph that does not fit together fails here, naming the
/// node, and never while running.
struct ONNXSpecializer {
    enum Operand {
        case constant(ONNXConstant, name: String)
        case value(Int)
    }

    let model: ONNXModel
    let opset: Int
    private var env: [String: Operand] = [:]
    private var shapes: [[Int]] = []
    private var names: [String] = []
    private var index: [String: Int] = [:]
    private var constants: [Int: Tensor] = [:]
    private var constantSlots: [String: Int] = [:]
    private var nodes: [Graph.Node] = []
    /// How many nodes (and graph outputs) read each ONNX value.
    private var readers: [String: Int] = [:]
    /// The largest value a graph may make (default 1 GiB of floats): a file asking for more is
    /// refused before any allocation.
    let maxValueElements: Int
    /// The node being translated, for errors.
    private(set) var current: ONNXNode?

    init(model: ONNXModel, opset: Int, maxValueElements: Int) {
        self.model = model
        self.opset = opset
        self.maxValueElements = maxValueElements
    }

    var file: URL { model.url }

    func error(_ problem: String) -> ONNXImportError {
        ONNXImportError(file: file, node: current.map { "\($0.label) at opset \(opset)" }, problem: problem)
    }

    mutating func specialize(inputShape: [Int]) throws -> Graph {
        let graph = model.graph
        guard let input = graph.inputs.first, graph.inputs.count == 1 else {
            throw ONNXImportError(file: file, node: nil, problem:
                "the model has \(graph.inputs.count) inputs (\(graph.inputs.map(\.name).joined(separator: ", "))); an image classifier takes one image batch")
        }
        if let dims = input.dims {
            guard dims.count == inputShape.count else {
                throw ONNXImportError(file: file, node: nil, problem: "input '\(input.name)' has rank \(dims.count), an image batch (N, C, H, W) has rank 4")
            }
            // The batch is tried even where the file fixed it: a graph whose shapes then all fit
            // takes it, and `GraphModel` falls back to one image at a time otherwise.
            for (d, (declared, given)) in zip(dims, inputShape).enumerated().dropFirst() {
                if case .value(let v) = declared, v != given {
                    throw ONNXImportError(file: file, node: nil, problem:
                        "input '\(input.name)' is declared \(dims.map(\.text)), which does not take \(inputShape) (axis \(d))")
                }
            }
        }
        let inputSlot = addValue(name: input.name, shape: inputShape)
        env[input.name] = .value(inputSlot)
        for (name, tensor) in graph.initializers { env[name] = .constant(ONNXConstant(tensor), name: name) }

        for name in graph.outputs.map(\.name) + graph.nodes.flatMap(\.inputs) { readers[name, default: 0] += 1 }
        for node in graph.nodes {
            current = node
            let inputs: [Operand?] = try node.inputs.map { name in
                guard !name.isEmpty else { return nil }
                guard let operand = env[name] else { throw error("input '\(name)' is not defined before this node") }
                return operand
            }
            let outputs = try translate(node, inputs)
            for (i, name) in node.outputs.enumerated() where !name.isEmpty {
                guard i < outputs.count else {
                    if readers[name] != nil { throw error("output \(i) ('\(name)') is not supported, and the graph uses it") }
                    continue
                }
                env[name] = outputs[i]
                if case .value(let slot) = outputs[i] { index[name] = slot }
            }
        }
        current = nil
        guard let outputName = graph.outputs.first?.name, let output = env[outputName] else {
            throw ONNXImportError(file: file, node: nil, problem: "the graph has no output")
        }
        guard case .value(let outputSlot) = output else {
            throw ONNXImportError(file: file, node: nil, problem: "the output '\(outputName)' does not depend on the input image")
        }
        let outShape = shapes[outputSlot]
        guard outShape.count == 2, outShape[0] == inputShape[0] else {
            throw ONNXImportError(file: file, node: nil, problem:
                "the output '\(outputName)' has shape \(outShape) for input \(inputShape); a classifier outputs (N, classes)")
        }
        return Graph(input: inputSlot, output: outputSlot, shapes: shapes, names: names, index: index,
                     constants: constants, nodes: nodes)
    }

    // MARK: - building blocks for the op translations

    private mutating func addValue(name: String, shape: [Int]) -> Int {
        shapes.append(shape)
        names.append(name)
        index[name] = shapes.count - 1
        return shapes.count - 1
    }

    func shape(_ operand: Operand) -> [Int] {
        switch operand {
        case .constant(let c, _): return c.shape
        case .value(let slot): return shapes[slot]
        }
    }

    /// The graph value of an operand: a float constant becomes a graph constant (once per name).
    private mutating func slot(_ operand: Operand) throws -> Int {
        switch operand {
        case .value(let slot):
            return slot
        case .constant(let c, let name):
            if let known = constantSlots[name] { return known }
            guard let tensor = c.tensor else {
                throw error("the integer or boolean tensor '\(name)' is used as data; only float data is supported")
            }
            let slot = addValue(name: name, shape: tensor.shape)
            constants[slot] = tensor
            constantSlots[name] = slot
            return slot
        }
    }

    /// `op` on `inputs`: folded when every input is a known float, else a checked graph node.
    mutating func emit(_ op: GraphOp, _ inputs: [Operand], name: String) throws -> Operand {
        let inputShapes = inputs.map(shape)
        let outShape: [Int]
        do { outShape = try op.outputShape(inputShapes) } catch let e as GraphShapeError {
            throw error("\(e.reason) (input shapes \(inputShapes.map { "\($0)" }.joined(separator: ", ")))")
        }
        guard checkedElementCount(outShape, limit: maxValueElements) != nil else {
            throw error("the output \(outShape) would hold more than \(maxValueElements) elements")
        }
        let tensors = inputs.compactMap { operand -> Tensor? in
            if case .constant(let c, _) = operand { return c.tensor }
            return nil
        }
        if tensors.count == inputs.count {
            return .constant(.floats(NDArray(shape: outShape, values: op.apply(tensors).scalars)), name: name)
        }
        let slots = try inputs.map { try slot($0) }
        let out = addValue(name: name, shape: outShape)
        nodes.append(Graph.Node(op: op, inputs: slots, output: out, origin: current?.name ?? name))
        return .value(out)
    }

    /// `x + bias` as the bias of the linear layer that just made `x`, when nothing else reads
    /// that layer's output and `bias` holds one value per output feature; nil otherwise.
    /// Exporters write every Linear as MatMul then Add: this saves a pass over the output.
    mutating func addBiasToLinear(_ x: Operand, _ bias: Operand, name: String) throws -> Operand? {
        guard case .value(let slot) = x, case .constant(let c, _) = bias, let last = nodes.last, last.output == slot,
              case .linear = last.op, last.inputs.count == 2, readers[names[slot]] == 1,
              c.isFloat, c.shape == [shapes[slot].last ?? -1] else { return nil }
        let b = try self.slot(bias)
        nodes[nodes.count - 1] = Graph.Node(op: .linear, inputs: last.inputs + [b], output: slot, origin: last.origin)
        index[names[slot]] = nil
        names[slot] = name
        return .value(slot)
    }

    /// The input at `i` as known integers, as shape and index inputs must be.
    func knownIntegers(_ inputs: [Operand?], _ i: Int, _ what: String) throws -> NDArray<Int64> {
        guard i < inputs.count, let operand = inputs[i] else { throw error("the \(what) input is missing") }
        guard case .constant(let c, _) = operand else {
            throw error("the \(what) input must be known before the model runs (computed from the input's shape at most)")
        }
        return c.integers
    }
}

extension ONNXDimension {
    var text: String {
        switch self {
        case .value(let v): return "\(v)"
        case .symbolic(let s): return s
        case .unknown: return "?"
        }
    }
}
