/// Grad-CAM ElementWise: like HiResCAM, gradient times activation, but with the ReLU taken
/// per element before the channel sum, so that negative evidence in one channel cannot
/// cancel positive evidence in another.
public struct GradCAMElementWise: CAMMethod {
    public let name = "gradcamelementwise"
    public let usesGradients = true
    public init() {}

    public func rawMaps(_ layer: LayerState, context: CAMContext) throws -> Tensor {
        try context.combine(elementwise(layer.requiredGradients, layer.activations) { max($0 * $1, 0) })
    }
}
