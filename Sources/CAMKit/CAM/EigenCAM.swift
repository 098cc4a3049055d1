/// Eigen-CAM (Muhammad & Yeasin 2020): the first principal component of the activations.
/// Class-agnostic (the target does not matter) and needs no gradient; always "eigen-smoothed".
public struct EigenCAM: CAMMethod {
    public let name = "eigencam"
    public let usesGradients = false
    public init() {}

    public func rawMaps(_ layer: LayerState, context: CAMContext) throws -> Tensor {
        try PrincipalComponent.projection(layer.activations)
    }
}
