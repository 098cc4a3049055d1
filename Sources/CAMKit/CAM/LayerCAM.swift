/// LayerCAM (Jiang et al. 2021): activations weighted pixel by pixel by their positive
/// gradient, which keeps fine detail when taken from earlier layers.
public struct LayerCAM: CAMMethod {
    public let name = "layercam"
    public let usesGradients = true
    public init() {}

    public func rawMaps(_ layer: LayerState, context: CAMContext) throws -> Tensor {
        try context.combine(elementwise(layer.requiredGradients, layer.activations) { max($0, 0) * $1 })
    }
}
