/// The hybrid variant's morphological feature extractor (MFE): it unfolds the backbone
/// vector into a small 64-channel map, reads it with five convolutional "analyzers"
/// (body proportion, head, tail, fur, colour pattern), relates them, and adds the result
/// back onto the input.
final class MorphologicalExtractor: Module {
    static let analyzerKernels: KeyValuePairs<String, Int> = [
        "body_proportion": 7, "head_features": 5, "tail_features": 5, "fur_features": 3, "color_pattern": 3,
    ]

    let spatialSize: Int
    let dimensionTransformer: Sequential
    let analyzers: [Module]
    let relationAnalyzer: Sequential
    let featureIntegrator: Sequential

    init(_ dim: Int) {
        spatialSize = max(7, Int(Double(dim / 4 / 64).squareRoot()))
        let unfolded = spatialSize * spatialSize * 64
        dimensionTransformer = Sequential([Linear(dim, unfolded), LayerNorm(unfolded), ReLU()])
        analyzers = Self.analyzerKernels.map { name, kernel in
            Self.analyzer(kernel: kernel, extraPointwise: name == "color_pattern")
        }
        relationAnalyzer = Sequential([Linear(640, 256), LayerNorm(256), ReLU(), Linear(256, 128), LayerNorm(128), ReLU()])
        featureIntegrator = Sequential([Linear(768, dim), LayerNorm(dim), ReLU()])
        super.init()
        register("dimension_transformer", dimensionTransformer)
        register("morphological_analyzers", ModuleDict(Array(zip(Self.analyzerKernels.map(\.key), analyzers))))
        register("feature_attention", MultiheadAttention(128, heads: 8))
        register("relation_analyzer", relationAnalyzer)
        register("feature_integrator", featureIntegrator)
    }

    /// Conv(k) + BN + ReLU, Conv(3) + BN + ReLU, and for colour a further Conv(1) + BN + ReLU.
    private static func analyzer(kernel: Int, extraPointwise: Bool) -> Sequential {
        var layers: [Module] = [
            Conv2d(64, 128, kernel: kernel, padding: kernel / 2), BatchNorm2d(128), ReLU(),
            Conv2d(128, 128, kernel: 3, padding: 1), BatchNorm2d(128), ReLU(),
        ]
        if extraPointwise { layers += [Conv2d(128, 128, kernel: 1), BatchNorm2d(128), ReLU()] }
        return Sequential(layers)
    }

    override func forward(_ x: Tensor) -> Tensor {
        let n = x.shape[0]
        let map = dimensionTransformer(x).reshaped([n, 64, spatialSize, spatialSize])
        let parts = analyzers.map { adaptiveAveragePool2d($0(map), outputSize: (1, 1)).reshaped([n, 128]) }
        // The original also runs `feature_attention` over the stacked parts and discards the
        // result; skipping it changes nothing downstream.
        let combined = concat(parts, axis: 1)
        let relation = relationAnalyzer(combined)
        return featureIntegrator(concat([combined, relation], axis: 1)) + x
    }
}
