/// Grad-CAM++ (Chattopadhyay et al. 2018, eq. 19): positive gradients weighted per pixel by
/// αᵢⱼ = g² / (2g² + ΣA · g³), which lets several instances of a class all count.
public struct GradCAMPlusPlus: ChannelWeightingMethod {
    public let name = "gradcam++"
    public let usesGradients = true
    public init() {}

    public func channelWeights(_ layer: LayerState, context: CAMContext) throws -> [Float] {
        let a = layer.activations.scalars, g = layer.requiredGradients.scalars
        return layer.perChannel { range in
            let sumActivations = a[range].reduce(0, +)
            var weight: Float = 0
            for i in range where g[i] != 0 {
                let g2 = g[i] * g[i], g3 = g2 * g[i]
                let alpha = g2 / (2 * g2 + sumActivations * g3 + 1e-6)
                weight += max(g[i], 0) * alpha
            }
            return weight
        }
    }
}
