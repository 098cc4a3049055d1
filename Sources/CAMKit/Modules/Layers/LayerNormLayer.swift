/// `nn.LayerNorm` over the last axis, or timm's `LayerNorm2d` over the channels of an NCHW
/// map. timm's channels-last `nn.LayerNorm` inside ConvNeXt blocks computes the same as the
/// channel form on NCHW, so it loads into that.
public final class LayerNorm: Module {
    public enum Axis: Sendable { case last, channels }

    public let weight: Parameter
    public let bias: Parameter
    public let eps: Float
    public let axis: Axis

    public init(_ dim: Int, eps: Float = 1e-5, over axis: Axis = .last) {
        weight = Parameter(shape: [dim], initial: 1)
        bias = Parameter(shape: [dim])
        self.eps = eps
        self.axis = axis
        super.init()
        adopt("weight", weight)
        adopt("bias", bias)
    }

    public override func forward(_ x: Tensor) -> Tensor {
        switch axis {
        case .last: layerNorm(x, weight: weight.value, bias: bias.value, eps: eps)
        case .channels: layerNorm2d(x, weight: weight.value, bias: bias.value, eps: eps)
        }
    }
}
