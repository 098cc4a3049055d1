/// ConvNeXt V2's global response normalisation over an NCHW map (timm `GlobalResponseNorm`).
public final class GlobalResponseNorm: Module {
    public let weight: Parameter
    public let bias: Parameter
    public let eps: Float

    public init(_ channels: Int, eps: Float = 1e-6) {
        weight = Parameter(shape: [channels])
        bias = Parameter(shape: [channels])
        self.eps = eps
        super.init()
        adopt("weight", weight)
        adopt("bias", bias)
    }

    public override func forward(_ x: Tensor) -> Tensor {
        globalResponseNorm2d(x, weight: weight.value, bias: bias.value, eps: eps)
    }
}
