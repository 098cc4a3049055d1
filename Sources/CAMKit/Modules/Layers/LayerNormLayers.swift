/// `nn.LayerNorm` over the last axis.
public final class LayerNorm: Module {
    public let weight: Parameter
    public let bias: Parameter
    public let eps: Float

    public init(_ dim: Int, eps: Float = 1e-5) {
        weight = Parameter(shape: [dim], initial: 1)
        bias = Parameter(shape: [dim])
        self.eps = eps
        super.init()
        adopt("weight", weight)
        adopt("bias", bias)
    }

    public override func forward(_ x: Tensor) -> Tensor {
        layerNorm(x, weight: weight.value, bias: bias.value, eps: eps)
    }
}

/// timm's `LayerNorm2d`: LayerNorm over the channels of an NCHW map. timm's channels-last
/// `nn.LayerNorm` inside ConvNeXt blocks is the same computation, so both load into this.
public final class LayerNorm2d: Module {
    public let weight: Parameter
    public let bias: Parameter
    public let eps: Float

    public init(_ channels: Int, eps: Float = 1e-6) {
        weight = Parameter(shape: [channels], initial: 1)
        bias = Parameter(shape: [channels])
        self.eps = eps
        super.init()
        adopt("weight", weight)
        adopt("bias", bias)
    }

    public override func forward(_ x: Tensor) -> Tensor {
        layerNorm2d(x, weight: weight.value, bias: bias.value, eps: eps)
    }
}
