/// Guided Grad-CAM (Selvaraju et al. 2017): the Grad-CAM map times the Guided Backprop
/// magnitude, pixel by pixel — Grad-CAM says where the class is, guided gradients add the
/// fine detail there. pytorch-grad-cam composes it in its example script (`cam_mask * gb`);
/// here the product is with Σ_c |gb| and scaled to [0, 1], to give one value per pixel.
public struct GuidedGradCAM: CAMMethod {
    public let name = "guidedgradcam"
    public let usesGradients = true
    private let gradCAM = GradCAM()
    public init() {}

    public func rawMaps(_ layer: LayerState, context: CAMContext) throws -> Tensor {
        try gradCAM.rawMaps(layer, context: context)
    }

    public func aggregate(_ layerMaps: [[Float]], image: Int, context: CAMContext) throws -> [Float] {
        let cam = try gradCAM.aggregate(layerMaps, image: image, context: context)
        let guided = try GuidedBackprop.magnitude(model: context.model, context: context, image: image)
        return MapPostprocessing.minMaxScaled(zip(cam, guided).map(*))
    }
}
