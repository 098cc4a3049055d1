/// EfficientNet-Lite0 as the PyPI package `efficientnet-lite-pytorch` builds it
/// (`EfficientNet.from_pretrained('efficientnet-lite0', …)`), with the same state-dict keys:
/// `_conv_stem`, `_bn0`, `_blocks.N._expand_conv`, `_blocks.N._bn0`, `_blocks.N._depthwise_conv`,
/// `_blocks.N._bn1`, `_blocks.N._project_conv`, `_blocks.N._bn2`, `_conv_head`, `_bn1`, `_fc`.
///
/// The Lite variant: ReLU6 instead of swish, no squeeze-excite, stem (32) and head (1280)
/// channels not scaled, TensorFlow "same" padding, BatchNorm eps 1e-3 (inference mode).
/// Drop-connect and dropout are the identity at inference.
///
/// The reference shares one `_swish` module for every activation; here each activation is its
/// own parameter-free module (`_stem_act`, `_blocks.N._expand_act`, `_blocks.N._depthwise_act`,
/// `_head_act`) so that a hook sees one tensor per pass.
public final class EfficientNetLite: Module, Classifier {
    /// One stage of the block table of `efficientnet_lite_builder.py`.
    public struct Stage: Sendable {
        public let repeats, kernel, stride, expandRatio, inputFilters, outputFilters: Int
    }

    /// Lite0 (width and depth coefficient 1.0): 'r1_k3_s11_e1_i32_o16' … 'r1_k3_s11_e6_i192_o320'.
    public static let lite0Stages: [Stage] = [
        Stage(repeats: 1, kernel: 3, stride: 1, expandRatio: 1, inputFilters: 32, outputFilters: 16),
        Stage(repeats: 2, kernel: 3, stride: 2, expandRatio: 6, inputFilters: 16, outputFilters: 24),
        Stage(repeats: 2, kernel: 5, stride: 2, expandRatio: 6, inputFilters: 24, outputFilters: 40),
        Stage(repeats: 3, kernel: 3, stride: 2, expandRatio: 6, inputFilters: 40, outputFilters: 80),
        Stage(repeats: 3, kernel: 5, stride: 1, expandRatio: 6, inputFilters: 80, outputFilters: 112),
        Stage(repeats: 4, kernel: 5, stride: 2, expandRatio: 6, inputFilters: 112, outputFilters: 192),
        Stage(repeats: 1, kernel: 3, stride: 1, expandRatio: 6, inputFilters: 192, outputFilters: 320),
    ]

    public static let batchNormEps: Float = 1e-3
    public static let stemChannels = 32
    public static let headChannels = 1280

    public let numClasses: Int
    let convStem: SamePaddingConv2d
    let bn0: BatchNorm2d
    let stemAct = ReLU6()
    let blocks: Sequential
    let convHead: SamePaddingConv2d
    let bn1: BatchNorm2d
    let headAct = ReLU6()
    let pool = GlobalAveragePool2d()
    let flatten = Flatten()
    let fc: Linear

    public init(numClasses: Int = 1000) {
        self.numClasses = numClasses
        let eps = Self.batchNormEps
        convStem = SamePaddingConv2d(3, Self.stemChannels, kernel: 3, stride: 2)
        bn0 = BatchNorm2d(Self.stemChannels, eps: eps)
        var list: [Module] = []
        for stage in Self.lite0Stages {
            for r in 0..<stage.repeats {
                list.append(MBConvBlock(input: r == 0 ? stage.inputFilters : stage.outputFilters,
                                        output: stage.outputFilters, kernel: stage.kernel,
                                        stride: r == 0 ? stage.stride : 1, expandRatio: stage.expandRatio, eps: eps))
            }
        }
        blocks = Sequential(list)
        convHead = SamePaddingConv2d(Self.lite0Stages.last!.outputFilters, Self.headChannels, kernel: 1)
        bn1 = BatchNorm2d(Self.headChannels, eps: eps)
        fc = Linear(Self.headChannels, numClasses)
        super.init()
        register("_conv_stem", convStem)
        register("_bn0", bn0)
        register("_stem_act", stemAct)
        register("_blocks", blocks)
        register("_conv_head", convHead)
        register("_bn1", bn1)
        register("_head_act", headAct)
        register("_avg_pooling", pool)
        register("_flatten", flatten)
        register("_dropout", Identity())
        register("_fc", fc)
    }

    /// The last convolutional feature map before pooling: ReLU6(_bn1(_conv_head(·))),
    /// (N, 1280, 7, 7) at 224 × 224 — what `extract_features` returns.
    public static let defaultLayer = "_head_act"
    public var defaultTargetLayer: String { Self.defaultLayer }
    public var outputSize: Int { numClasses }

    public override func forward(_ x: Tensor) -> Tensor {
        precondition(x.rank == 4 && x.shape[1] == 3, "EfficientNet-Lite takes (N, 3, H, W) images, got \(x.shape)")
        let features = headAct(bn1(convHead(blocks(stemAct(bn0(convStem(x)))))))
        return fc(flatten(pool(features)))
    }
}

/// `MBConvBlock` without squeeze-excite: [1×1 expand → BN → ReLU6] → depthwise k×k → BN →
/// ReLU6 → 1×1 project → BN (linear), plus the input when stride is 1 and the channels match
/// (`id_skip`; drop-connect is the identity at inference).
final class MBConvBlock: Module {
    let expand: (conv: SamePaddingConv2d, bn: BatchNorm2d, act: ReLU6)?
    let depthwise: SamePaddingConv2d
    let bn1: BatchNorm2d
    let depthwiseAct = ReLU6()
    let project: SamePaddingConv2d
    let bn2: BatchNorm2d
    let hasSkip: Bool

    init(input: Int, output: Int, kernel: Int, stride: Int, expandRatio: Int, eps: Float) {
        let hidden = input * expandRatio
        expand = expandRatio != 1
            ? (SamePaddingConv2d(input, hidden, kernel: 1), BatchNorm2d(hidden, eps: eps), ReLU6()) : nil
        depthwise = SamePaddingConv2d(hidden, hidden, kernel: kernel, stride: stride, groups: hidden)
        bn1 = BatchNorm2d(hidden, eps: eps)
        project = SamePaddingConv2d(hidden, output, kernel: 1)
        bn2 = BatchNorm2d(output, eps: eps)
        hasSkip = stride == 1 && input == output
        super.init()
        if let expand {
            register("_expand_conv", expand.conv)
            register("_bn0", expand.bn)
            register("_expand_act", expand.act)
        }
        register("_depthwise_conv", depthwise)
        register("_bn1", bn1)
        register("_depthwise_act", depthwiseAct)
        register("_project_conv", project)
        register("_bn2", bn2)
    }

    override func forward(_ x: Tensor) -> Tensor {
        var h = x
        if let expand { h = expand.act(expand.bn(expand.conv(h))) }
        h = bn2(project(depthwiseAct(bn1(depthwise(h)))))
        return hasSkip ? h + x : h
    }
}
