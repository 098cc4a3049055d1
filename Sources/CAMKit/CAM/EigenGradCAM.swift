/// Eigen-Grad-CAM: Eigen-CAM on gradient × activation, which makes it class-specific.
public struct EigenGradCAM: CAMMethod {
    public let name = "eigengradcam"
    public let usesGradients = true
    public init() {}

    public func rawMaps(_ layer: LayerState, context: CAMContext) throws -> Tensor {
        try PrincipalComponent.projection(elementwise(layer.requiredGradients, layer.activations) { $0 * $1 })
    }
}
