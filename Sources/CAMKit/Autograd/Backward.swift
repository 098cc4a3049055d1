public enum AutogradError: Error, CustomStringConvertible {
    case notDifferentiable(shape: [Int])
    case gradientShape(expected: [Int], found: [Int])

    public var description: String {
        switch self {
        case .notDifferentiable(let shape):
            return "backward from a tensor of shape \(shape) that does not require a gradient: "
                + "mark an input or a layer output first (e.g. register a backward hook)"
        case .gradientShape(let expected, let found):
            return "seed gradient has shape \(found), the tensor has shape \(expected)"
        }
    }
}

extension Tensor {
    /// Backpropagates from this tensor to every tensor that requires a gradient and lies
    /// between it and the tensors first marked `requiresGrad`; it goes no further back.
    ///
    /// - Parameter seed: the gradient of this tensor, ones (for a scalar: 1) when omitted.
    public func backward(seed: Tensor? = nil) throws {
        guard requiresGrad else { throw AutogradError.notDifferentiable(shape: shape) }
        let seed = seed ?? Tensor(repeating: 1, shape: shape)
        guard seed.shape == shape else { throw AutogradError.gradientShape(expected: shape, found: seed.shape) }

        var grads: [ObjectIdentifier: Tensor] = [ObjectIdentifier(self): seed]
        for tensor in topologicalOrder() {
            guard let grad = grads.removeValue(forKey: ObjectIdentifier(tensor)) else { continue }
            tensor.receive(grad)
            guard let fn = tensor.gradFn else { continue }
            let needs = fn.inputs.map(\.requiresGrad)
            let inputGrads = fn.backward(grad, needs)
            for (input, inputGrad) in zip(fn.inputs, inputGrads) where input.requiresGrad {
                guard let inputGrad else { continue }
                precondition(inputGrad.shape == input.shape,
                             "\(fn.name) backward gave a gradient of shape \(inputGrad.shape) for an input of shape \(input.shape)")
                let key = ObjectIdentifier(input)
                grads[key] = grads[key].map { $0 + inputGrad } ?? inputGrad
            }
        }
    }

    /// Stores and announces the complete gradient of this tensor.
    private func receive(_ grad: Tensor) {
        if isLeaf || retainsGrad { self.grad = grad }
        for hook in gradHooks { hook(grad) }
    }

    /// This tensor and every recorded tensor it depends on, each after all of its consumers.
    private func topologicalOrder() -> [Tensor] {
        var visited = Set<ObjectIdentifier>()
        var postOrder: [Tensor] = []
        // Iterative DFS: graphs of deep networks would overflow the stack when recursing.
        var stack: [(Tensor, Bool)] = [(self, false)]
        while let (tensor, expanded) = stack.popLast() {
            if expanded { postOrder.append(tensor); continue }
            guard visited.insert(ObjectIdentifier(tensor)).inserted else { continue }
            stack.append((tensor, true))
            for input in tensor.gradFn?.inputs ?? [] where input.requiresGrad {
                if !visited.contains(ObjectIdentifier(input)) { stack.append((input, false)) }
            }
        }
        return postOrder.reversed()
    }
}
