import Foundation

/// Checks how a graph's nodes connect and puts them in an order the runtime can execute.
///
/// The spec requires the file's node list to be topologically sorted, but not every tool
/// writes it so; the file's order is kept when it already is one, and restored with Kahn's
/// algorithm otherwise. Every value must be defined once (by a graph input, an initializer
/// or one node output), every input a node reads must be defined, every graph output
/// produced, and the graph must have no cycle.
enum ONNXGraphOrder {
    /// `defined`: the graph's input and initializer names.
    static func sorted(_ nodes: [ONNXNode], defined: Set<String>, outputs: [String], file: URL) throws -> [ONNXNode] {
        var producer: [String: Int] = [:]
        for (index, node) in nodes.enumerated() {
            for output in node.outputs where !output.isEmpty {
                guard !defined.contains(output) else {
                    throw ONNXError(file, "\(node.label) writes '\(output)', which is already a graph input or initializer")
                }
                if let earlier = producer.updateValue(index, forKey: output) {
                    throw ONNXError(file, "'\(output)' is an output of both \(nodes[earlier].label) and \(node.label)")
                }
            }
        }
        // The nodes whose outputs each node reads (once per input that reads one).
        let predecessors = try nodes.map { node in
            try node.inputs.filter { !$0.isEmpty && !defined.contains($0) }.map { input -> Int in
                guard let index = producer[input] else {
                    throw ONNXError(file, "\(node.label) reads '\(input)', which is not a graph input, an initializer or the output of any node")
                }
                return index
            }
        }
        for output in outputs where !defined.contains(output) && producer[output] == nil {
            throw ONNXError(file, "graph output '\(output)' is not produced by any node")
        }
        let inFileOrder = predecessors.enumerated().allSatisfy { index, before in before.allSatisfy { $0 < index } }
        if inFileOrder { return nodes }

        var waiting = predecessors.map(\.count)
        var consumers = [[Int]](repeating: [], count: nodes.count)
        for (index, before) in predecessors.enumerated() {
            for predecessor in before { consumers[predecessor].append(index) }
        }
        var order = waiting.indices.filter { waiting[$0] == 0 }
        var next = 0
        while next < order.count {
            for consumer in consumers[order[next]] {
                waiting[consumer] -= 1
                if waiting[consumer] == 0 { order.append(consumer) }
            }
            next += 1
        }
        guard order.count == nodes.count else {
            throw ONNXError(file, "the graph has a cycle: \(cycle(nodes, predecessors: predecessors, waiting: waiting))")
        }
        return order.map { nodes[$0] }
    }

    /// A cycle among the nodes Kahn's algorithm could not order, in the direction data flows.
    /// Each of them still waits for a predecessor that is also unordered, so walking back
    /// from one along such predecessors must come round to a node already passed.
    private static func cycle(_ nodes: [ONNXNode], predecessors: [[Int]], waiting: [Int]) -> String {
        guard var current = waiting.indices.first(where: { waiting[$0] > 0 }) else { return "" }
        var path: [Int] = []
        var position: [Int: Int] = [:]
        while position[current] == nil {
            position[current] = path.count
            path.append(current)
            guard let back = predecessors[current].first(where: { waiting[$0] > 0 }) else { break }
            current = back
        }
        let loop = Array(path[(position[current] ?? 0)...].reversed())
        // Starting from the node listed first in the file, so the message does not depend on
        // where the walk began.
        let start = loop.indices.min { loop[$0] < loop[$1] } ?? 0
        let labels = (loop[start...] + loop[..<start]).map { nodes[$0].label }
        if labels.count > 8 { return labels.prefix(8).joined(separator: " → ") + " → … (\(labels.count) nodes in all)" }
        return (labels + [labels[0]]).joined(separator: " → ")
    }
}
