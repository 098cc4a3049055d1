/// Global average pooling of an NCHW map to (N, C, 1, 1), timm's `global_pool` with flatten off.
public final class GlobalAveragePool2d: Module {
    public override func forward(_ x: Tensor) -> Tensor { globalAveragePool2d(x) }
}

/// `nn.AdaptiveAvgPool2d`.
public final class AdaptiveAveragePool2d: Module {
    public let outputSize: (Int, Int)

    public init(_ outputSize: (Int, Int)) {
        self.outputSize = outputSize
    }

    public override func forward(_ x: Tensor) -> Tensor {
        adaptiveAveragePool2d(x, outputSize: outputSize)
    }
}
