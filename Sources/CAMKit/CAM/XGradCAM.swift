/// XGrad-CAM (Fu et al. 2020): gradients weighted by the activations, normalised by each
/// channel's activation sum — the weights that satisfy the paper's sensitivity and
/// conservation axioms.
public struct XGradCAM: ChannelWeightingMethod {
    public let name = "xgradcam"
    public let usesGradients = true
    public init() {}

    public func channelWeights(_ layer: LayerState, context: CAMContext) throws -> [Float] {
        let a = layer.activations.scalars, g = layer.requiredGradients.scalars
        return layer.perChannel { range in
            let denominator = a[range].reduce(0, +) + 1e-7
            return range.reduce(Float(0)) { $0 + g[$1] * a[$1] / denominator }
        }
    }
}
