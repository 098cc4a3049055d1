/// Ablation-CAM (Desai & Ramaswamy 2020): no gradients; a channel's weight is the relative drop
/// of the target score when that channel of the layer output is knocked out,
/// `(score − score without channel) / score`. One forward pass per channel, in batches.
///
/// Follows the reference's `AblationLayer`: a channel is set to 0 when the layer output's
/// minimum is 0, otherwise far below it. The reference takes that minimum over the whole batch
/// it is filling, after the previous images were already ablated, so within a batch the i-th
/// ablated channel gets `min − (i+1)·1e7`; we reproduce that, as it changes the scores. All
/// channels are ablated (the reference's default `ratio_channels_to_ablate = 1.0`).
public struct AblationCAM: ChannelWeightingMethod {
    public let name = "ablationcam"
    public let usesGradients = false
    /// Ablated copies per forward pass (the reference's default 32).
    public var batchSize: Int
    /// Whether the copies run only through what follows the layer, where the model allows it;
    /// false runs the whole model on copies of the image with the layer's output replaced, as
    /// the reference does (the same maps, slower: for comparing the two).
    public var runsOnlyAfterLayers: Bool

    public init(batchSize: Int = 32, runsOnlyAfterLayers: Bool = true) {
        precondition(batchSize >= 1, "batch size must be positive")
        self.batchSize = batchSize
        self.runsOnlyAfterLayers = runsOnlyAfterLayers
    }

    public func channelWeights(_ layer: LayerState, context: CAMContext) throws -> [Float] {
        let mapSize = layer.channels * layer.height * layer.width
        let batches = (layer.channels + batchSize - 1) / batchSize
        var weights: [Float] = []
        for image in 0..<layer.batch {
            let original = context.originalScores[image]
            let base = Tensor(shape: [1, layer.channels, layer.height, layer.width],
                              scalars: Array(layer.activations.scalars[image * mapSize ..< (image + 1) * mapSize]))
            let minimum = base.scalars.min() ?? 0
            for (b, start) in stride(from: 0, to: layer.channels, by: batchSize).enumerated() {
                let channels = Array(start ..< min(start + batchSize, layer.channels))
                var value = minimum
                let values = channels.map { _ -> Float in
                    if minimum != 0 { value -= 1e7 }
                    return minimum == 0 ? 0 : value
                }
                let scores = try context.scores(ofImage: image, layer: layer.name,
                                                ablation: ChannelAblation(base: base, channels: channels, values: values),
                                                onlyAfterLayer: runsOnlyAfterLayers)
                weights += scores.map { (original - $0) / original }
                context.report(layer: layer.name, completed: image * batches + b + 1, total: layer.batch * batches)
            }
        }
        return weights
    }
}
