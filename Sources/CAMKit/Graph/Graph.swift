/// A model as data: numbered values, each produced once, by the model input, a constant
/// (weights), or a node; nodes are in an order where every input is produced before it is used.
///
/// A graph is specialised to one input shape, so every value has a known shape: what the file
/// left symbolic (the batch size, shape subgraphs) has been folded away.
public struct Graph {
    public struct Node {
        public var op: GraphOp
        /// Values read, in the op's order.
        public var inputs: [Int]
        public var output: Int
        /// Where the node came from (the ONNX node name, or the traced module path), for errors.
        public var origin: String

        public init(op: GraphOp, inputs: [Int], output: Int, origin: String) {
            self.op = op
            self.inputs = inputs
            self.output = output
            self.origin = origin
        }
    }

    /// The value the model input is bound to.
    public var input: Int
    /// The logits.
    public var output: Int
    /// The shape of every value.
    public var shapes: [[Int]]
    /// The name of every value (the ONNX value name); layers refer to values by name, so they
    /// survive a new specialisation where the numbering changes.
    public var names: [String]
    /// Every name that refers to a value, the names of values that pass through unchanged
    /// (Identity, Dropout) included.
    public var index: [String: Int]
    public var constants: [Int: Tensor]
    public var nodes: [Node]

    public init(input: Int, output: Int, shapes: [[Int]], names: [String], index: [String: Int]? = nil,
                constants: [Int: Tensor], nodes: [Node]) {
        self.input = input
        self.output = output
        self.shapes = shapes
        self.names = names
        self.index = index ?? Dictionary(names.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        self.constants = constants
        self.nodes = nodes
    }

    public var valueCount: Int { shapes.count }

    /// The value called `name`.
    public func value(named name: String) -> Int? { index[name] }

    /// The index of the node that produces each value (nil for the input and constants).
    public var producers: [Int?] {
        var result = [Int?](repeating: nil, count: valueCount)
        for (i, node) in nodes.enumerated() { result[node.output] = i }
        return result
    }

    /// Which values depend on any of `values` (themselves included): the part of the graph a
    /// change there reaches.
    public func downstream(of values: [Int]) -> [Bool] {
        var reached = [Bool](repeating: false, count: valueCount)
        for v in values { reached[v] = true }
        for node in nodes where node.inputs.contains(where: { reached[$0] }) { reached[node.output] = true }
        return reached
    }

    /// Which values the output needs.
    public var live: [Bool] {
        var needed = [Bool](repeating: false, count: valueCount)
        needed[output] = true
        for node in nodes.reversed() where needed[node.output] {
            for i in node.inputs { needed[i] = true }
        }
        return needed
    }
}
