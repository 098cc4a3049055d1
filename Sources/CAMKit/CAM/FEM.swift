/// FEM, the Feature Explanation Method (Fuad et al. 2020): no gradients; each channel weighted
/// by the share of its pixels above its mean + k population standard deviations, so that
/// channels with a few strongly outlying responses count most. Like the reference, it ignores
/// eigen smoothing.
public struct FEM: CAMMethod {
    public let name = "fem"
    public let usesGradients = false
    /// The k of the k-sigma threshold (the reference's default 2).
    public var k: Double

    public init(k: Double = 2) { self.k = k }

    public func rawMaps(_ layer: LayerState, context: CAMContext) throws -> Tensor {
        let a = layer.activations.scalars
        let weights = layer.perChannel { range in
            let count = Double(range.count)
            let mean = a[range].reduce(0.0) { $0 + Double($1) } / count
            let variance = a[range].reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / count
            let threshold = Float(mean + k * variance.squareRoot())
            return Float(a[range].filter { $0 > threshold }.count) / Float(range.count)
        }
        let plane = layer.height * layer.width
        return CAMContext.channelSum(Tensor(shape: layer.activations.shape,
                                            scalars: a.indices.map { a[$0] * weights[$0 / plane] }))
    }
}
