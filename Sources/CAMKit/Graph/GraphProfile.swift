import Foundation

/// Where a forward pass spends its time, per kind of op: what `explain bench --profile` and
/// `explain bench-onnx --profile` print. The time between one value and the next is the op
/// that made the second, so it includes that op's allocation and the release of what died.
public struct GraphProfile {
    public struct Entry {
        /// The op's name; depthwise convolutions (one filter per channel, no GEMM) apart.
        public let kind: String
        /// Mean time per pass.
        public var milliseconds: Double
        /// Ops of this kind per pass.
        public var count: Int
        /// Floating-point operations per pass of the GEMM-based ops (convolution, linear,
        /// matmul); nil for the others.
        public var flops: Double?

        /// GFLOP/s of a GEMM-based kind.
        public var gigaflopsPerSecond: Double? { flops.map { $0 / (milliseconds * 1e6) } }
    }

    /// Slowest first.
    public let entries: [Entry]

    public var totalMilliseconds: Double { entries.map(\.milliseconds).reduce(0, +) }

    /// `repeats` passes of `graph` on `input` (one more first, untimed).
    public static func measure(_ graph: Graph, input: Tensor, repeats: Int) -> GraphProfile {
        let executor = GraphExecutor(graph)
        let producers = graph.producers
        var totals: [String: Entry] = [:]
        for pass in 0...max(1, repeats) {
            var last = DispatchTime.now().uptimeNanoseconds
            _ = executor.run(input) { value, tensor in
                let now = DispatchTime.now().uptimeNanoseconds
                if pass > 0, let p = producers[value] {
                    let node = graph.nodes[p]
                    let kind = node.op.profileKind(graph.shapes[node.inputs[0]], node.inputs.count > 1 ? graph.shapes[node.inputs[1]] : [])
                    var entry = totals[kind] ?? Entry(kind: kind, milliseconds: 0, count: 0, flops: nil)
                    entry.milliseconds += Double(now - last) / 1e6 / Double(repeats)
                    if pass == 1 {
                        entry.count += 1
                        if let f = node.op.gemmFlops(node.inputs.map { graph.shapes[$0] }, output: graph.shapes[node.output]) {
                            entry.flops = (entry.flops ?? 0) + f
                        }
                    }
                    totals[kind] = entry
                }
                last = DispatchTime.now().uptimeNanoseconds
                return tensor
            }
        }
        return GraphProfile(entries: totals.values.sorted { $0.milliseconds > $1.milliseconds })
    }

    /// The GEMM-based kinds together: their flops over their time.
    public var gemmGigaflopsPerSecond: Double? {
        let gemm = entries.filter { $0.flops != nil }
        guard !gemm.isEmpty else { return nil }
        return gemm.compactMap(\.flops).reduce(0, +) / (gemm.map(\.milliseconds).reduce(0, +) * 1e6)
    }
}

extension GraphOp {
    fileprivate func profileKind(_ x: [Int], _ w: [Int]) -> String {
        if case .conv2d(let a) = self, a.groups > 1, x.count == 4, a.groups == x[1], w.first == a.groups {
            return "conv2d (depthwise)"
        }
        return name
    }

    /// Multiply-adds times 2 of the ops that run as GEMMs.
    fileprivate func gemmFlops(_ s: [[Int]], output: [Int]) -> Double? {
        switch self {
        case .conv2d:
            guard profileKind(s[0], s[1]) == "conv2d", s[1].count == 4 else { return nil }
            // Each output element sums (C_in / groups) kh kw products.
            return 2 * Double(output.product) * Double(s[1][1] * s[1][2] * s[1][3])
        case .linear:
            return 2 * Double(output.product) * Double(s[1][1])
        case .matmul:
            let k = s[0].count == 1 ? s[0][0] : s[0][s[0].count - 1]
            return 2 * Double(output.product) * Double(k)
        default:
            return nil
        }
    }
}
