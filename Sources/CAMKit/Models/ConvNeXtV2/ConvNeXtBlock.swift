/// One ConvNeXt V2 block: depthwise 7×7 → LayerNorm → MLP with GRN → residual add.
/// Children carry timm's names, including its parameter-free ones, so layer names match.
final class ConvNeXtBlock: Module {
    let convDW: Conv2d
    let norm: LayerNorm
    let mlp: GlobalResponseNormMLP

    /// - Parameter convMLP: whether timm's MLP is 1×1 convolutions (else `nn.Linear`s over
    ///   channels-last features, which we also run as 1×1 convolutions).
    init(dim: Int, convMLP: Bool) {
        convDW = Conv2d(dim, dim, kernel: 7, padding: 3, groups: dim)
        norm = LayerNorm(dim, eps: 1e-6, over: .channels)
        mlp = GlobalResponseNormMLP(dim, hidden: 4 * dim, convMLP: convMLP)
        super.init()
        register("conv_dw", convDW)
        register("norm", norm)
        register("mlp", mlp)
        register("shortcut", Identity())
        register("drop_path", Identity())
    }

    override func forward(_ x: Tensor) -> Tensor {
        mlp(norm(convDW(x))) + x
    }
}

/// timm's `GlobalResponseNormMlp`: pointwise expand → GELU → GRN → pointwise project.
final class GlobalResponseNormMLP: Module {
    let fc1: Conv2d
    let act = GELU()
    let grn: GlobalResponseNorm
    let fc2: Conv2d

    init(_ dim: Int, hidden: Int, convMLP: Bool) {
        fc1 = Conv2d(dim, hidden, kernel: 1)
        grn = GlobalResponseNorm(hidden)
        fc2 = Conv2d(hidden, dim, kernel: 1)
        fc1.standsForLinear = !convMLP
        fc2.standsForLinear = !convMLP
        super.init()
        register("fc1", fc1)
        register("act", act)
        register("drop1", Identity())
        register("grn", grn)
        register("fc2", fc2)
        register("drop2", Identity())
    }

    override func forward(_ x: Tensor) -> Tensor {
        fc2(grn(act(fc1(x))))
    }
}

/// A stage: optional downsampling (LayerNorm + 2×2 stride-2 conv), then its blocks.
final class ConvNeXtStage: Module {
    let downsample: Module
    let blocks: Sequential

    init(inDim: Int, dim: Int, depth: Int, downsamples: Bool, convMLP: Bool) {
        downsample = downsamples
            ? Sequential([LayerNorm(inDim, eps: 1e-6, over: .channels), Conv2d(inDim, dim, kernel: 2, stride: 2)])
            : Identity()
        blocks = Sequential((0..<depth).map { _ in ConvNeXtBlock(dim: dim, convMLP: convMLP) })
        super.init()
        register("downsample", downsample)
        register("blocks", blocks)
    }

    override func forward(_ x: Tensor) -> Tensor {
        blocks(downsample(x))
    }
}
