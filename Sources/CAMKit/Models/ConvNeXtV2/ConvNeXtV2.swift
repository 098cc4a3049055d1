/// timm's ConvNeXt V2, with the same module tree and state-dict keys
/// (`stem.0`, `stages.3.blocks.2.mlp.grn`, `head.norm`, `head.fc`).
///
/// With `numClasses == 0` it returns the pooled, head-normalised features (N, dims[3]),
/// as `timm.create_model(..., num_classes=0)` does.
public final class ConvNeXtV2: Module, Classifier {
    public let config: ConvNeXtV2Config
    public let numClasses: Int
    let stem: Sequential
    let stages: Sequential
    let head: ConvNeXtHead

    public init(_ config: ConvNeXtV2Config, numClasses: Int = 0) {
        self.config = config
        self.numClasses = numClasses
        let dims = config.dims
        stem = Sequential([Conv2d(3, dims[0], kernel: 4, stride: 4), LayerNorm(dims[0], eps: 1e-6, over: .channels)])
        stages = Sequential((0..<4).map { i in
            ConvNeXtStage(inDim: i == 0 ? dims[0] : dims[i - 1], dim: dims[i], depth: config.depths[i], downsamples: i > 0,
                          convMLP: config.convMLP)
        })
        head = ConvNeXtHead(dims[3], numClasses: numClasses)
        super.init()
        register("stem", stem)
        register("stages", stages)
        register("norm_pre", Identity())
        register("head", head)
    }

    public static let defaultLayer = "stages.3"
    public var defaultTargetLayer: String { Self.defaultLayer }
    public var outputSize: Int { numClasses > 0 ? numClasses : config.featureDim }

    public override func forward(_ x: Tensor) -> Tensor {
        precondition(x.rank == 4 && x.shape[1] == 3, "ConvNeXt V2 takes (N, 3, H, W) images, got \(x.shape)")
        return head(stages(stem(x)))
    }
}

/// timm's `NormMlpClassifierHead`: global average pool → LayerNorm2d → flatten → fc.
final class ConvNeXtHead: Module {
    let globalPool = GlobalAveragePool2d()
    let norm: LayerNorm
    let flatten = Flatten()
    let fc: Module

    init(_ dim: Int, numClasses: Int) {
        norm = LayerNorm(dim, eps: 1e-6, over: .channels)
        fc = numClasses > 0 ? Linear(dim, numClasses) : Identity()
        super.init()
        register("global_pool", globalPool)
        register("norm", norm)
        register("flatten", flatten)
        register("pre_logits", Identity())
        register("drop", Identity())
        register("fc", fc)
    }

    override func forward(_ x: Tensor) -> Tensor {
        fc(flatten(norm(globalPool(x))))
    }
}
