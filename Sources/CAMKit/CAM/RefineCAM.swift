/// RefineCAM: the base method's map at each target layer on its own, multiplied together, so
/// that only what every layer agrees on stays — it denoises the maps of early layers. As
/// pytorch-grad-cam's `RefineCAM` (whose rescaling of each layer before the product has no
/// effect, so here neither): the product of the single-layer maps, min–max scaled.
public struct RefineCAM: CAMMethod {
    public let name = "refinecam"
    /// The method run at each layer (Grad-CAM++ by default, as in the reference).
    public let base: CAMMethod

    public init(base: CAMMethod = GradCAMPlusPlus()) { self.base = base }

    public var usesGradients: Bool { base.usesGradients }
    public var runsOnlyAfterLayers: Bool { base.runsOnlyAfterLayers }

    public func rawMaps(_ layer: LayerState, context: CAMContext) throws -> Tensor {
        try base.rawMaps(layer, context: context)
    }

    public func aggregate(_ layerMaps: [[Float]], image: Int, context: CAMContext) throws -> [Float] {
        let single = layerMaps.map(MapPostprocessing.minMaxScaled)  // each layer as its own CAM returns it
        return MapPostprocessing.minMaxScaled(single.dropFirst().reduce(single[0]) { zip($0, $1).map(*) })
    }
}
