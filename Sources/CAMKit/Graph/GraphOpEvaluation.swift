/// What each op computes, through the runtime's kernels, so that a graph records its backward
/// exactly as a hand-written module does. Where a native op does the same (matmul of the ranks
/// it takes, zero padding of the spatial axes), its kernel runs,
/// so that a traced native model computes exactly what it did when traced.
extension GraphOp {
    /// The op applied to tensors whose shapes the graph has already checked.
    public func apply(_ x: [Tensor]) -> Tensor {
        switch self {
        case .conv2d(let a) where a.activation != nil:
            return clampedConv2d(x[0], weight: x[1], bias: x.count > 2 ? x[2] : nil, attributes: a)
        case .conv2d(let a):
            return CAMKit.conv2d(x[0], weight: x[1], bias: x.count > 2 ? x[2] : nil, stride: (a.strideH, a.strideW),
                          padding: a.padding, dilation: (a.dilationH, a.dilationW), groups: a.groups)
        case .linear:
            return CAMKit.linear(x[0], weight: x[1], bias: x.count > 2 ? x[2] : nil)
        case .matmul:
            let (a, b) = (x[0].rank, x[1].rank)
            let native = (a == 2 || a == 3) && (b == 2 || (b == 3 && a == 3 && x[0].shape[0] == x[1].shape[0]))
            return native ? CAMKit.matmul(x[0], x[1]) : matmulBroadcast(x[0], x[1])
        case .batchNorm(let epsilon):
            return batchNormAnyRank(x[0], scale: x[1], bias: x[2], mean: x[3], variance: x[4], epsilon: epsilon)
        case .layerNorm(let axis, let epsilon):
            return CAMKit.layerNorm(x[0], fromAxis: axis, weight: x.count > 1 ? x[1] : nil, bias: x.count > 2 ? x[2] : nil,
                                    eps: epsilon)
        case .layerNorm2d(let epsilon):
            return CAMKit.layerNorm2d(x[0], weight: x.count > 1 ? x[1] : nil, bias: x.count > 2 ? x[2] : nil, eps: epsilon)
        case .globalResponseNorm(let epsilon):
            return CAMKit.globalResponseNorm2d(x[0], weight: x[1], bias: x[2], eps: epsilon)
        case .unary(let op):
            return op.apply(x[0])
        case .binary(let op):
            switch op {
            case .add: return x[0] + x[1]
            case .sub: return x[0] - x[1]
            case .mul: return x[0] * x[1]
            case .div: return x[0] / x[1]
            case .pow: return CAMKit.pow(x[0], x[1])
            }
        case .scale(let factor):
            return x[0] * factor
        case .softmax(let axis):
            return CAMKit.softmax(x[0], axis: axis)
        case .reduce(let kind, let axes, let keepDims):
            return CAMKit.reduce(x[0], kind, axes: axes, keepDims: keepDims)
        case .globalAveragePool:
            return CAMKit.globalAveragePool2d(x[0]).reshaped(Array(x[0].shape.prefix(2)) + [1, 1])
        case .adaptiveAveragePool(let height, let width):
            return CAMKit.adaptiveAveragePool2d(x[0], outputSize: (height, width))
        case .averagePool(let a, let countIncludePad):
            return CAMKit.averagePool2d(x[0], kernel: (a.kernelH, a.kernelW), stride: (a.strideH, a.strideW),
                                 padding: a.padding, countIncludePad: countIncludePad, ceilMode: a.ceilMode)
        case .maxPool(let a):
            return CAMKit.maxPool2d(x[0], kernel: (a.kernelH, a.kernelW), stride: (a.strideH, a.strideW), padding: a.padding,
                             dilation: (a.dilationH, a.dilationW), ceilMode: a.ceilMode)
        case .pad(let before, let after, .constant(0)) where x[0].rank == 4 && before.prefix(2) == [0, 0] && after.prefix(2) == [0, 0]
            && !(before + after).contains(where: { $0 < 0 }):
            return zeroPad2d(x[0], Padding2D(top: before[2], bottom: after[2], left: before[3], right: after[3]))
        case .pad(let before, let after, let mode):
            return CAMKit.pad(x[0], before: before, after: after, mode: mode)
        case .reshape(let shape):
            return x[0].reshaped(GraphOp.resolvedReshape(shape, of: x[0].shape))
        case .transpose(let permutation):
            return x[0].permuted(permutation)
        case .concat(let axis):
            return CAMKit.concat(x, axis: axis)
        case .slice(let starts, let ends, let steps):
            return CAMKit.slice(x[0], starts: starts, ends: ends, steps: steps)
        case .gather(let axis, let indices, let indicesShape):
            return CAMKit.gather(x[0], axis: axis, indices: indices, indicesShape: indicesShape)
        case .expand(let shape):
            return CAMKit.expand(x[0], to: shape)
        case .select(let condition, let conditionShape):
            return CAMKit.select(condition, conditionShape: conditionShape, x[0], x[1])
        case .identity:
            return x[0]
        }
    }

    /// A reshape target with its 0s copied from `input` (the leading ones, as ONNX) and its
    /// -1 left for `reshaped` to infer.
    static func resolvedReshape(_ target: [Int], of input: [Int]) -> [Int] {
        target.enumerated().map { i, d in d == 0 && i < input.count ? input[i] : d }
    }
}

extension UnaryOp {
    func apply(_ x: Tensor) -> Tensor {
        switch self {
        case .relu: return GuidedBackprop.isActive ? guidedReLU(x) : CAMKit.relu(x)
        case .relu6: return CAMKit.relu6(x)
        case .gelu: return CAMKit.gelu(x)
        case .geluTanh: return CAMKit.gelu(x, approximation: .tanh)
        case .silu: return CAMKit.silu(x)
        case .sigmoid: return CAMKit.sigmoid(x)
        case .tanh: return CAMKit.tanh(x)
        case .exp: return CAMKit.exp(x)
        case .log: return CAMKit.log(x)
        case .sqrt: return CAMKit.sqrt(x)
        case .reciprocal: return CAMKit.reciprocal(x)
        case .neg: return -x
        case .erf: return CAMKit.erf(x)
        case .hardSwish: return CAMKit.hardSwish(x)
        case .hardSigmoid(let alpha, let beta): return CAMKit.hardSigmoid(x, alpha: alpha, beta: beta)
        case .leakyRelu(let alpha): return CAMKit.leakyRelu(x, alpha: alpha)
        case .clip(let lower, let upper): return CAMKit.clip(x, min: lower, max: upper)
        }
    }
}

/// BatchNormalization on (N, C) or (N, C, d1, …): the NCHW kernel on a 4-D view.
private func batchNormAnyRank(_ x: Tensor, scale: Tensor, bias: Tensor, mean: Tensor, variance: Tensor,
                              epsilon: Float) -> Tensor {
    let spatial = Array(x.shape.dropFirst(2)).product
    let view = x.rank == 4 ? x : x.reshaped([x.shape[0], x.shape[1], spatial, 1])
    let y = batchNorm2d(view, mean: mean, variance: variance, weight: scale, bias: bias, eps: epsilon)
    return x.rank == 4 ? y : y.reshaped(x.shape)
}
