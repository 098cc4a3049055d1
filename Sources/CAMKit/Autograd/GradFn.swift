/// One recorded op of the autograd graph: how to turn the gradient of its output into
/// gradients of its inputs.
final class GradFn {
    let name: String
    let inputs: [Tensor]
    /// Given the output gradient and which inputs need a gradient, returns one gradient per
    /// input (nil where none is needed). Never called for inputs that need none, so no
    /// parameter gradient is computed unless a parameter was marked `requiresGrad`.
    let backward: (_ gradOutput: Tensor, _ needs: [Bool]) -> [Tensor?]

    init(name: String, inputs: [Tensor], backward: @escaping (Tensor, [Bool]) -> [Tensor?]) {
        self.name = name
        self.inputs = inputs
        self.backward = backward
    }
}

extension Tensor {
    /// Attaches `backward` to `output` when any of `inputs` requires a gradient, and returns
    /// `output`. Ops call this once, after computing their result; when no input requires a
    /// gradient nothing is recorded, which is what keeps backward from going further back
    /// than the layer a caller asked about.
    @discardableResult
    static func record(_ output: Tensor, op name: String, inputs: [Tensor],
                       backward: @escaping (_ gradOutput: Tensor, _ needs: [Bool]) -> [Tensor?]) -> Tensor {
        guard inputs.contains(where: { $0.requiresGrad }) else { return output }
        output.requiresGrad = true
        output.gradFn = GradFn(name: name, inputs: inputs, backward: backward)
        return output
    }

    /// Whether this tensor was produced by a recorded op.
    public var isLeaf: Bool { gradFn == nil }
}
