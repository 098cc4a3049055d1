/// Grad-CAM (Selvaraju et al. 2017): each channel weighted by the spatial mean of its gradient.
public struct GradCAM: ChannelWeightingMethod {
    public let name = "gradcam"
    public let usesGradients = true
    public init() {}

    public func channelWeights(_ layer: LayerState, context: CAMContext) throws -> [Float] {
        let g = layer.requiredGradients.scalars
        let spatial = layer.height * layer.width
        return (0..<(layer.batch * layer.channels)).map { nc in
            g[nc * spatial ..< (nc + 1) * spatial].reduce(0, +) / Float(spatial)
        }
    }
}
