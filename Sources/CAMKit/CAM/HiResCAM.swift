/// HiResCAM (Draelos & Carin 2020): gradient times activation element-wise, summed over
/// channels — unlike Grad-CAM it does not average the gradient away, so the map is faithful
/// to the score for models whose head is a linear function of the feature map.
public struct HiResCAM: CAMMethod {
    public let name = "hirescam"
    public let usesGradients = true
    public init() {}

    public func rawMaps(_ layer: LayerState, context: CAMContext) throws -> Tensor {
        try context.combine(elementwise(layer.requiredGradients, layer.activations) { $0 * $1 })
    }
}

/// `f` applied element by element to two tensors of one shape; no graph is recorded.
func elementwise(_ a: Tensor, _ b: Tensor, _ f: (Float, Float) -> Float) -> Tensor {
    precondition(a.shape == b.shape, "shapes \(a.shape) and \(b.shape) differ")
    return Tensor(shape: a.shape, scalars: zip(a.scalars, b.scalars).map(f))
}
