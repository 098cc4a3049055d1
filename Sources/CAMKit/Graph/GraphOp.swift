/// One operation of a model graph, with its attributes resolved to plain values: what runs,
/// not how a file spelled it. Imported ONNX nodes and traced native modules both become these,
/// so a graph is data that can be listed, checked, cut at a layer and run again.
///
/// Every op takes float tensors only: shape arithmetic, index lists and masks have been folded
/// into attributes before a graph exists.
public enum GraphOp: Equatable, Sendable {
    /// x, weight (Cout, Cin/groups, kh, kw), optional bias.
    case conv2d(Conv2dAttributes)
    /// x (…, in), weight (out, in), optional bias: `x Wᵀ + b`.
    case linear
    /// NumPy matmul of two operands: 1-D promotion, broadcast batch dimensions.
    case matmul
    /// x (N, C, …), scale, bias, mean, variance: inference-mode batch normalisation.
    case batchNorm(epsilon: Float)
    /// x, optional scale, optional bias; normalised over the axes from `axis` to the last.
    case layerNorm(axis: Int, epsilon: Float)
    /// x NCHW, optional weight, optional bias: LayerNorm over the channels (timm's LayerNorm2d).
    case layerNorm2d(epsilon: Float)
    /// x NCHW, weight, bias: ConvNeXt V2's global response normalisation.
    case globalResponseNorm(epsilon: Float)
    case unary(UnaryOp)
    case binary(BinaryOp)
    /// x · factor.
    case scale(Float)
    case softmax(axis: Int)
    /// Over the listed (normalised, sorted) axes.
    case reduce(ReduceKind, axes: [Int], keepDims: Bool)
    /// NCHW → (N, C, 1, 1).
    case globalAveragePool
    /// NCHW → (N, C, h, w), as torch's `adaptive_avg_pool2d`.
    case adaptiveAveragePool(height: Int, width: Int)
    case averagePool(PoolAttributes, countIncludePad: Bool)
    case maxPool(PoolAttributes)
    case pad(before: [Int], after: [Int], mode: PadMode)
    /// Target shape; a 0 keeps the input's size on that axis and a -1 is inferred (ONNX Reshape
    /// with `allowzero = 0`), so a traced reshape can keep the batch size free.
    case reshape([Int])
    /// Output axis i is input axis `permutation[i]`.
    case transpose([Int])
    /// All inputs along one (normalised) axis.
    case concat(axis: Int)
    /// One normalised, clamped range per axis.
    case slice(starts: [Int], ends: [Int], steps: [Int])
    /// Non-negative indices taken along `axis`; the output puts `indicesShape` in its place.
    case gather(axis: Int, indices: [Int], indicesShape: [Int])
    case expand([Int])
    /// ONNX Where with a constant condition: a where true, b where false (all three broadcast).
    case select(condition: [Bool], conditionShape: [Int])
    case identity

    /// Short name for listings, profiles and errors.
    public var name: String {
        switch self {
        case .conv2d: return "conv2d"
        case .linear: return "linear"
        case .matmul: return "matmul"
        case .batchNorm: return "batchNorm"
        case .layerNorm: return "layerNorm"
        case .layerNorm2d: return "layerNorm2d"
        case .globalResponseNorm: return "globalResponseNorm"
        case .unary(let op): return op.name
        case .binary(let op): return op.rawValue
        case .scale: return "scale"
        case .softmax: return "softmax"
        case .reduce(let kind, _, _): return "reduce\("\(kind)".capitalized)"
        case .globalAveragePool: return "globalAveragePool"
        case .adaptiveAveragePool: return "adaptiveAveragePool"
        case .averagePool: return "averagePool"
        case .maxPool: return "maxPool"
        case .pad: return "pad"
        case .reshape: return "reshape"
        case .transpose: return "transpose"
        case .concat: return "concat"
        case .slice: return "slice"
        case .gather: return "gather"
        case .expand: return "expand"
        case .select: return "select"
        case .identity: return "identity"
        }
    }
}

public struct Conv2dAttributes: Equatable, Sendable {
    public var strideH, strideW, dilationH, dilationW, groups: Int
    public var padding: Padding2D
    /// A clamping activation applied as the output is written: set only in graphs fused for
    /// inference (`Graph.fusedForInference`), which run without gradients.
    public var activation: UnaryOp?

    public init(stride: (Int, Int) = (1, 1), padding: Padding2D = .symmetric(0), dilation: (Int, Int) = (1, 1),
                groups: Int = 1, activation: UnaryOp? = nil) {
        (strideH, strideW) = stride
        (dilationH, dilationW) = dilation
        self.padding = padding
        self.groups = groups
        self.activation = activation
    }
}

public struct PoolAttributes: Equatable, Sendable {
    public var kernelH, kernelW, strideH, strideW, dilationH, dilationW: Int
    public var padding: Padding2D
    public var ceilMode: Bool

    public init(kernel: (Int, Int), stride: (Int, Int), padding: Padding2D, dilation: (Int, Int) = (1, 1),
                ceilMode: Bool = false) {
        (kernelH, kernelW) = kernel
        (strideH, strideW) = stride
        (dilationH, dilationW) = dilation
        self.padding = padding
        self.ceilMode = ceilMode
    }
}

public enum UnaryOp: Equatable, Sendable {
    case relu, relu6, gelu, geluTanh, silu, sigmoid, tanh, exp, log, sqrt, reciprocal, neg, erf, hardSwish
    case hardSigmoid(alpha: Float, beta: Float)
    case leakyRelu(alpha: Float)
    case clip(min: Float?, max: Float?)

    public var name: String {
        switch self {
        case .relu: return "relu"
        case .relu6: return "relu6"
        case .gelu: return "gelu"
        case .geluTanh: return "geluTanh"
        case .silu: return "silu"
        case .sigmoid: return "sigmoid"
        case .tanh: return "tanh"
        case .exp: return "exp"
        case .log: return "log"
        case .sqrt: return "sqrt"
        case .reciprocal: return "reciprocal"
        case .neg: return "neg"
        case .erf: return "erf"
        case .hardSwish: return "hardSwish"
        case .hardSigmoid: return "hardSigmoid"
        case .leakyRelu: return "leakyRelu"
        case .clip: return "clip"
        }
    }

    /// The bounds of an op that only clamps (ReLU, ReLU6, Clip), which a convolution can
    /// apply to its output in place; nil for any other op.
    var clampBounds: ClampBounds? {
        switch self {
        case .relu: return ClampBounds(lower: 0, upper: .infinity)
        case .relu6: return ClampBounds(lower: 0, upper: 6)
        case .clip(let lower, let upper): return ClampBounds(lower: lower ?? -.infinity, upper: upper ?? .infinity)
        default: return nil
        }
    }
}

public enum BinaryOp: String, Equatable, Sendable {
    case add, sub, mul, div, pow
}
