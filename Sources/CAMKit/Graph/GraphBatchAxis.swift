/// Which ops keep the batch on axis 0: a traced graph may be run at another batch size only when
/// every value that depends on the input keeps it, for then no op mixes images or sizes anything
/// by the batch (reshape targets that copy it aside, see `GraphTracer`).
extension GraphOp {
    /// Whether the output's axis 0 is the batch axis, given which inputs have it there.
    func keepsBatchAxis(_ batched: [Bool], _ shapes: [[Int]], output: [Int]) -> Bool {
        guard batched.first == true else {
            // Only broadcasting ops take the batch from a later operand.
            if case .binary = self { return broadcastKeepsBatch(batched, shapes, output: output) }
            return false
        }
        let weightsFree = !batched.dropFirst().contains(true)
        switch self {
        case .conv2d, .batchNorm, .layerNorm2d, .globalResponseNorm, .unary, .scale, .identity,
             .globalAveragePool, .adaptiveAveragePool, .averagePool, .maxPool:
            return weightsFree
        case .linear:
            return shapes[0].count >= 2 && weightsFree
        case .layerNorm(let axis, _):
            return axis > 0 && weightsFree
        case .softmax(let axis):
            return axis > 0
        case .reduce(_, let axes, _):
            return !axes.contains(0)
        case .reshape(let target):
            return target.first == 0
        case .transpose(let permutation):
            return permutation.first == 0
        case .concat(let axis):
            return axis > 0 && !batched.contains(false)
        case .pad(let before, let after, _):
            return before.first == 0 && after.first == 0
        case .matmul:
            let (a, b) = (shapes[0].count, shapes[1].count)
            return batched[1] ? a == b && a >= 3 : a >= 2 && b == 2
        case .binary:
            return broadcastKeepsBatch(batched, shapes, output: output)
        case .slice, .gather, .expand, .select:
            return false
        }
    }

    /// A broadcast keeps the batch when the operands that have it span the output's rank and the
    /// others have no axis there (or a 1).
    private func broadcastKeepsBatch(_ batched: [Bool], _ shapes: [[Int]], output: [Int]) -> Bool {
        guard batched.contains(true) else { return false }
        return zip(batched, shapes).allSatisfy { isBatched, shape in
            isBatched ? shape.count == output.count : shape.count < output.count || shape.first == 1
        }
    }
}
