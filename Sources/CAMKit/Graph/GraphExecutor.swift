/// Runs a graph with the runtime's kernels. Each value is released after its last use, and a
/// caller-given function sees (and may replace) any value as it is produced: that is where
/// layer hooks attach, so capturing, gradients and replaced outputs work as on modules.
public struct GraphExecutor {
    public let graph: Graph
    /// For each value, the index of the last node that reads it (nil: read by none).
    private let lastUse: [Int?]

    public init(_ graph: Graph) {
        self.graph = graph
        var last = [Int?](repeating: nil, count: graph.valueCount)
        for (i, node) in graph.nodes.enumerated() { for v in node.inputs { last[v] = i } }
        lastUse = last
    }

    /// The output for `input`; `observe(value, tensor)` is called for the input and each node
    /// output and returns the tensor the rest of the graph uses.
    public func run(_ input: Tensor, observe: (Int, Tensor) -> Tensor = { $1 }) -> Tensor {
        var values = [Tensor?](repeating: nil, count: graph.valueCount)
        for (v, t) in graph.constants { values[v] = t }
        values[graph.input] = observe(graph.input, input)
        return evaluate(nodes: graph.nodes.indices, values: &values, observe: observe)
    }

    /// Runs only the nodes that depend on `starts`, with `values` holding `starts` and every other
    /// value those nodes read; returns the output.
    public func runSuffix(from starts: [Int], values: inout [Tensor?]) -> Tensor {
        let reached = graph.downstream(of: starts)
        for (v, t) in graph.constants where values[v] == nil { values[v] = t }
        let nodes = graph.nodes.indices.filter { reached[graph.nodes[$0].output] && !starts.contains(graph.nodes[$0].output) }
        return evaluate(nodes: nodes, values: &values, observe: { $1 })
    }

    /// Values that the nodes after `start` read but that do not depend on it (constants aside):
    /// what a suffix run must be given.
    public func suffixInputs(from start: Int) -> [Int] {
        let reached = graph.downstream(of: [start])
        var needed = Set<Int>()
        for node in graph.nodes where reached[node.output] && node.output != start {
            for v in node.inputs where !reached[v] && graph.constants[v] == nil { needed.insert(v) }
        }
        return needed.sorted()
    }

    private func evaluate<S: Sequence>(nodes: S, values: inout [Tensor?], observe: (Int, Tensor) -> Tensor) -> Tensor
    where S.Element == Int {
        for i in nodes {
            let node = graph.nodes[i]
            let result = node.op.apply(node.inputs.map { values[$0]! })
            values[node.output] = observe(node.output, result)
            for v in node.inputs where lastUse[v] == i && v != graph.output && graph.constants[v] == nil { values[v] = nil }
        }
        return values[graph.output]!
    }
}
