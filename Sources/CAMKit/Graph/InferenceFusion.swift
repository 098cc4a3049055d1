/// A graph rewritten for passes that only want the output (Score-CAM's masked inputs, the
/// metrics' perturbed copies): each convolution absorbs the inference BatchNorm that alone
/// reads it, its weights scaled and its bias shifted once here, and then the clamping
/// activation (ReLU, ReLU6, a clip) that alone reads the result, applied as the output is
/// written. Two passes over memory less per block of an MBConv model, and no intermediate.
///
/// The folded values are not the model's layers (a hook on the BatchNorm would see nothing),
/// so these graphs are never offered for capturing, and they run without gradients. The
/// results differ from the unfused pass in the last bits only (a product rounded in another
/// order).
extension Graph {
    public func fusedForInference() -> Graph {
        var fused = self
        var readers = [Int](repeating: 0, count: valueCount)
        for node in nodes { for v in node.inputs { readers[v] += 1 } }
        readers[output] += 1
        var removed = Set<Int>()
        for (i, node) in nodes.enumerated() where !removed.contains(i) {
            guard case .conv2d(var attributes) = node.op, attributes.activation == nil,
                  let weight = constants[node.inputs[1]] else { continue }
            var bias = node.inputs.count > 2 ? constants[node.inputs[2]] : nil
            guard node.inputs.count == 2 || bias != nil else { continue }
            var weightValue = weight, end = node.output, absorbed: [Int] = []
            if let (n, next) = soleReader(of: end, readers: readers),
               case .batchNorm(let epsilon) = next.op,
               let (w, b) = folded(weightValue, bias, into: next, epsilon: epsilon) {
                (weightValue, bias, end) = (w, b, next.output)
                absorbed.append(n)
            }
            if let (n, next) = soleReader(of: end, readers: readers),
               case .unary(let activation) = next.op, activation.clampBounds != nil {
                attributes.activation = activation
                end = next.output
                absorbed.append(n)
            }
            guard !absorbed.isEmpty else { continue }
            var inputs = [node.inputs[0], fused.addConstant(weightValue, name: names[node.output] + ".fused_weight")]
            if let bias { inputs.append(fused.addConstant(bias, name: names[node.output] + ".fused_bias")) }
            fused.nodes[i] = Node(op: .conv2d(attributes), inputs: inputs, output: end, origin: node.origin)
            removed.formUnion(absorbed)
        }
        fused.nodes = fused.nodes.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
        return fused
    }

    /// The one node that reads `value`, when nothing else does (the output counts as a reader).
    private func soleReader(of value: Int, readers: [Int]) -> (Int, Node)? {
        guard readers[value] == 1, let n = nodes.firstIndex(where: { $0.inputs.contains(value) }) else { return nil }
        return (n, nodes[n])
    }

    /// Weight and bias of a convolution followed by `batchNorm` (x, scale, bias, mean,
    /// variance, all constants): w · s per output channel and b · s + t, with s and t computed
    /// as the BatchNorm kernel computes them.
    private func folded(_ weight: Tensor, _ bias: Tensor?, into batchNorm: Node, epsilon: Float) -> (Tensor, Tensor)? {
        let parameters = batchNorm.inputs.dropFirst().map { constants[$0] }
        guard parameters.count == 4, let scale = parameters[0], let shift = parameters[1], let mean = parameters[2],
              let variance = parameters[3] else { return nil }
        let channels = weight.shape[0], perChannel = weight.count / channels
        guard [scale, shift, mean, variance].allSatisfy({ $0.count == channels }) else { return nil }
        let s = (0..<channels).map { 1 / (variance.scalars[$0] + epsilon).squareRoot() * scale.scalars[$0] }
        let t = (0..<channels).map { shift.scalars[$0] - mean.scalars[$0] * s[$0] }
        let w = Tensor(shape: weight.shape, scalars: weight.scalars.indices.map { weight.scalars[$0] * s[$0 / perChannel] })
        let b = Tensor(shape: [channels], scalars: (0..<channels).map { (bias?.scalars[$0] ?? 0) * s[$0] + t[$0] })
        return (w, b)
    }

    /// A new constant value.
    private mutating func addConstant(_ tensor: Tensor, name: String) -> Int {
        let v = valueCount
        shapes.append(tensor.shape)
        names.append(name)
        index[name] = v
        constants[v] = tensor
        return v
    }
}
