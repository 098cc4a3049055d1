/// Grad-CAM (Selvaraju et al. 2017): each channel weighted by the spatial mean of its gradient.
public struct GradCAM: ChannelWeightingMethod {
    public let name = "gradcam"
    public let usesGradients = true
    public init() {}

    public func channelWeights(_ layer: LayerState, context: CAMContext) throws -> [Float] {
        let g = layer.requiredGradients.scalars
        return layer.perChannel { g[$0].reduce(0, +) / Float($0.count) }
    }
}
