/// ShapleyCAM (Cai et al. 2025): Grad-CAM's weights with a second-order term, the mean over the
/// map of g − ½ H A, where g is the score's gradient at the layer and H A the Hessian of the
/// score with respect to the layer's output times that output.
///
/// H A is the derivative of the gradient along the activations themselves, d/dt g(t A) at
/// t = 1, which the reference takes by double backward. We have no double backward, so it is
/// the central difference of two more passes with the layer's output scaled by 1 ± ε: exact
/// where only linear layers and ReLUs follow (H A is 0 there, as the reference finds), and
/// within about 1e-5 of the reference's normalised maps where GELU, LayerNorm or softmax follow
/// (ε = 1/32 balances the difference's truncation against float rounding).
public struct ShapleyCAM: ChannelWeightingMethod {
    public let name = "shapleycam"
    public let usesGradients = true
    public var epsilon: Float

    public init(epsilon: Float = 1.0 / 32) {
        precondition(epsilon > 0 && epsilon < 1, "ShapleyCAM's step must lie in (0, 1)")
        self.epsilon = epsilon
    }

    public func channelWeights(_ layer: LayerState, context: CAMContext) throws -> [Float] {
        let layout = context.layouts[layer.name] ?? .spatial
        let plus = layout.spatial(try context.layerGradient(layer.name, scaledBy: 1 + epsilon)).scalars
        let minus = layout.spatial(try context.layerGradient(layer.name, scaledBy: 1 - epsilon)).scalars
        let g = layer.requiredGradients.scalars
        let step = 2 * epsilon
        return layer.perChannel { range in
            var sum: Float = 0
            for i in range { sum += g[i] - 0.5 * ((plus[i] - minus[i]) / step) }
            return sum / Float(range.count)
        }
    }
}
