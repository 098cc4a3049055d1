/// The maps of one `CAMExtractor.explain` call, with the model's output they explain.
public struct CAMResult {
    /// (N, classes) logits of the unaugmented input, and their softmax.
    public let logits: Tensor
    public let probabilities: Tensor
    /// The target layers, in the order given.
    public let layers: [String]
    /// `explanations[image][k]`: one map per target of each image (k > 0 only for top-k).
    public let explanations: [[ClassMap]]

    /// The final maps of the k-th target of every image, (N, H, W).
    public func maps(target k: Int = 0) -> Tensor {
        Tensor(stacking: explanations.map { $0[k].map })
    }

    /// The normalised low-resolution maps of one layer for the k-th target, (N, h, w).
    public func lowResolutionMaps(layer: String, target k: Int = 0) -> Tensor? {
        let maps = explanations.compactMap { $0[k].layerMaps[layer] }
        return maps.count == explanations.count ? Tensor(stacking: maps) : nil
    }
}

/// The map explaining one score of one image.
public struct ClassMap {
    /// The class (and the contrasted class) whose score the map explains.
    public let target: TargetScore
    /// At input size, in [0, 1] (an average of [0, 1] maps with test-time augmentation).
    public let map: Tensor
    /// Each layer's map at its own resolution, after ReLU and min–max scaling; with
    /// test-time augmentation, those of the unaugmented input.
    public let layerMaps: [String: Tensor]
}

extension Tensor {
    /// Tensors of one shape stacked along a new first axis.
    convenience init(stacking tensors: [Tensor]) {
        let shape = tensors.first?.shape ?? []
        precondition(tensors.allSatisfy { $0.shape == shape }, "stacking tensors of different shapes")
        self.init(shape: [tensors.count] + shape, scalars: tensors.flatMap(\.scalars))
    }
}
