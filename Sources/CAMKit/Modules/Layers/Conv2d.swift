/// `nn.Conv2d`: weight (out, in / groups, kh, kw), bias (out).
///
/// Also serves timm's channels-last `nn.Linear` MLP layers as 1×1 convolutions, since this
/// runtime keeps feature maps in NCHW; the weight loader accepts their (out, in) layout.
public final class Conv2d: Module {
    public let weight: Parameter
    public let bias: Parameter?
    public let stride: (Int, Int)
    public let padding: Padding2D
    public let groups: Int
    /// True where the PyTorch model has an `nn.Linear` over channels-last features that we run
    /// as this 1×1 convolution: FullGrad, counting only PyTorch's convolutions, skips it.
    public var standsForLinear = false

    public init(_ inChannels: Int, _ outChannels: Int, kernel: (Int, Int), stride: (Int, Int) = (1, 1),
                padding: Padding2D = .symmetric(0), groups: Int = 1, bias: Bool = true) {
        precondition(inChannels % groups == 0 && outChannels % groups == 0,
                     "groups \(groups) must divide channels \(inChannels) → \(outChannels)")
        weight = Parameter(shape: [outChannels, inChannels / groups, kernel.0, kernel.1])
        self.bias = bias ? Parameter(shape: [outChannels]) : nil
        self.stride = stride
        self.padding = padding
        self.groups = groups
        super.init()
        adopt("weight", weight)
        if let b = self.bias { adopt("bias", b) }
    }

    public convenience init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1,
                            padding: Int = 0, groups: Int = 1, bias: Bool = true) {
        self.init(inChannels, outChannels, kernel: (kernel, kernel), stride: (stride, stride),
                  padding: .symmetric(padding), groups: groups, bias: bias)
    }

    public override func forward(_ x: Tensor) -> Tensor {
        conv2d(x, weight: weight.value, bias: bias?.value, stride: stride, padding: padding, groups: groups)
    }
}
