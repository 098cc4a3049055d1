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

    public init(batchSize: Int = 32) {
        precondition(batchSize >= 1, "batch size must be positive")
        self.batchSize = batchSize
    }

    public func channelWeights(_ layer: LayerState, context: CAMContext) throws -> [Float] {
        let input = context.input
        let imageSize = input.count / input.shape[0]
        let mapSize = layer.channels * layer.height * layer.width
        let spatial = layer.height * layer.width
        let batches = (layer.channels + batchSize - 1) / batchSize
        var weights: [Float] = []
        for image in 0..<layer.batch {
            let original = context.originalScores[image]
            let activations = layer.activations.scalars[image * mapSize ..< (image + 1) * mapSize]
            let minimum = activations.min() ?? 0
            let imageScalars = input.scalars[image * imageSize ..< (image + 1) * imageSize]
            for (b, start) in stride(from: 0, to: layer.channels, by: batchSize).enumerated() {
                let channels = start ..< min(start + batchSize, layer.channels)
                var ablated = [Float]()
                ablated.reserveCapacity(channels.count * mapSize)
                var value = minimum
                for channel in channels {
                    if minimum != 0 { value -= 1e7 }
                    let offset = ablated.count + channel * spatial
                    ablated += activations
                    for i in 0..<spatial { ablated[offset + i] = minimum == 0 ? 0 : value }
                }
                let replaced = Tensor(shape: [channels.count, layer.channels, layer.height, layer.width], scalars: ablated)
                let repeated = Tensor(shape: [channels.count] + input.shape.dropFirst(),
                                      scalars: Array([ArraySlice<Float>](repeating: imageScalars, count: channels.count).joined()))
                let scores = context.scores(of: repeated, forImage: image, replacing: layer.name, with: replaced)
                weights += scores.map { (original - $0) / original }
                context.report(layer: layer.name, completed: image * batches + b + 1, total: layer.batch * batches)
            }
        }
        return weights
    }
}
