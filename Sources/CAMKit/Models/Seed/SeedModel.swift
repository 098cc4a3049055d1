/// A case-study classifier: a ConvNeXt V2 backbone (features only) with the head of one of
/// the three variants, under the PyTorch names `backbone`, `attention`,
/// `morphological_extractor`, `feature_fusion` and `classifier`.
public final class SeedModel: Module, Classifier {
    public let variant: SeedVariant
    public let numClasses: Int
    let backbone: ConvNeXtV2
    let attention: HeadAttention?
    let morphologicalExtractor: MorphologicalExtractor?
    let featureFusion: Sequential?
    let classifier: Sequential

    public init(_ variant: SeedVariant, backbone config: ConvNeXtV2Config = .base, numClasses: Int = 124,
                attention mode: SeedAttentionMode = .original) {
        self.variant = variant
        self.numClasses = numClasses
        let d = config.featureDim
        backbone = ConvNeXtV2(config, numClasses: 0)
        attention = variant == .cnn ? nil : HeadAttention(d, mode: mode)
        morphologicalExtractor = variant == .hybrid ? MorphologicalExtractor(d) : nil
        featureFusion = variant == .hybrid
            ? Sequential([Linear(3 * d, d), LayerNorm(d), ReLU(), Linear(d, d), LayerNorm(d), ReLU()])
            : nil
        // Index 1 is the Dropout(0.3) of the original, an identity at inference.
        classifier = Sequential([LayerNorm(d), Identity(), Linear(d, numClasses)])
        super.init()
        register("backbone", backbone)
        // In the original's order of assignment, which is its state-dict order.
        if let attention { register("attention", attention) }
        register("classifier", classifier)
        if let morphologicalExtractor { register("morphological_extractor", morphologicalExtractor) }
        if let featureFusion { register("feature_fusion", featureFusion) }
    }

    public static let defaultLayer = "backbone.stages.3"
    public var defaultTargetLayer: String { Self.defaultLayer }
    public var outputSize: Int { numClasses }

    public override func forward(_ x: Tensor) -> Tensor {
        var features = backbone(x)
        if let morphologicalExtractor, let featureFusion {
            let morphology = morphologicalExtractor(features)
            features = featureFusion(concat([features, morphology, features * morphology], axis: 1))
        }
        if let attention { features = attention(features) }
        return classifier(features)
    }
}
