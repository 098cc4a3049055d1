/// What follows a global pooling when it is affine in the pooled values (reshapes, scalings,
/// additions of constants and one linear map with constant weights: a classifier head), so that
/// each ablated copy's output follows from the image's: a copy differs from the image in one
/// pooled value, so its output differs by that change times one column of the map. Ablation-CAM
/// at the last feature map then costs one pass of the image's pooled values through the head and
/// one multiply-add per copy and class, instead of a (copies × channels × classes) product; the
/// numbers are the same up to float rounding.
struct AffineHead {
    /// The linear map, (out, in), applied to one image's pooled values.
    let weight: Tensor
    /// The product of the scalings along the way.
    let factor: Float

    /// The head after the value `pooled` of a graph of batch 1; nil when what follows up to the
    /// output is anything else.
    init?(in graph: Graph, after pooled: Int) {
        var readers: [Int: [Graph.Node]] = [:]
        for node in graph.nodes { for v in Set(node.inputs) { readers[v, default: []].append(node) } }
        let isConstant = { (v: Int) in graph.constants[v] != nil }
        var current = pooled, factor: Float = 1, weight: Tensor?
        while current != graph.output {
            guard let next = readers[current], next.count == 1, let node = next.first else { return nil }
            let sameShape = graph.shapes[node.output] == graph.shapes[current]
            switch node.op {
            case .identity, .reshape:
                break
            case .scale(let s):
                factor *= s
            case .binary(.add) where sameShape && node.inputs.filter(isConstant).count == 1,
                 .binary(.sub) where sameShape && node.inputs[0] == current && isConstant(node.inputs[1]):
                break
            case .linear where weight == nil && node.inputs[0] == current && graph.shapes[current].count == 2
                && node.inputs.dropFirst().allSatisfy(isConstant):
                weight = graph.constants[node.inputs[1]]
            default:
                return nil
            }
            current = node.output
        }
        guard let weight, graph.shapes[pooled].product == weight.shape[1],
              graph.shapes[graph.output].product == weight.shape[0] else { return nil }
        self.weight = weight
        self.factor = factor
    }

    /// The outputs of copies that change pooled value `channels[i]` from `pooled`'s to
    /// `changed[i]`, given the image's output `base`.
    func outputs(base: Tensor, pooled: Tensor, channels: [Int], changed: [Float]) -> Tensor {
        let (out, inputs) = (weight.shape[0], weight.shape[1])
        return Tensor(shape: [channels.count] + base.shape.dropFirst()) { dst in
            weight.withScalars { w in base.withScalars { b in pooled.withScalars { p in
                for (i, (channel, value)) in zip(channels, changed).enumerated() {
                    let delta = (value - p[channel]) * factor
                    let row = dst.baseAddress! + i * out
                    for k in 0..<out { row[k] = b[k] + delta * w[k * inputs + channel] }
                }
            } } }
        }
    }
}
