/// XGrad-CAM (Fu et al. 2020): gradients weighted by the activations, normalised by each
/// channel's activation sum — the weights that satisfy the paper's sensitivity and
/// conservation axioms.
public struct XGradCAM: ChannelWeightingMethod {
    public let name = "xgradcam"
    public let usesGradients = true
    public init() {}

    public func channelWeights(_ layer: LayerState, context: CAMContext) throws -> [Float] {
        let a = layer.activations.scalars, g = layer.requiredGradients.scalars
        let spatial = layer.height * layer.width
        return (0..<(layer.batch * layer.channels)).map { nc in
            let range = nc * spatial ..< (nc + 1) * spatial
            let denominator = a[range].reduce(0, +) + 1e-7
            return range.reduce(Float(0)) { $0 + g[$1] * a[$1] / denominator }
        }
    }
}
