/// FullGrad (Srinivas & Fleuret 2019): the whole network's evidence instead of one layer's —
/// |input gradient × input| plus, for every convolution and batch-norm layer, |bias × gradient
/// at its output|, each channel scaled to [0, 1] and resized to the input before they are
/// summed. The target layers are ignored: as in pytorch-grad-cam, the layers are every
/// `Conv2d` with a bias and every `BatchNorm2d` (whose bias is β − μ·γ/√(σ²+ε)); the
/// same-padding convolutions of TF-ported models count as the reference's subclasses do, not
/// at all. Gradients at those layers and at the input are computed only for this method.
/// Eigen smoothing is not applied.
public struct FullGrad: CAMMethod {
    public let name = "fullgrad"
    public let usesGradients = true
    public let usesInputGradient = true
    public init() {}

    public func capturedLayers(of model: Module, requested: [String]) throws -> [String] {
        let layers = model.namedModules().filter { Self.bias(of: $0.module) != nil }.map(\.name)
        guard !layers.isEmpty else { throw CAMError.noBiasLayers(type: String(describing: type(of: model))) }
        return layers
    }

    public func rawMaps(_ layer: LayerState, context: CAMContext) throws -> Tensor {
        preconditionFailure("FullGrad makes its maps from all layers at once (finalMaps)")
    }

    public func finalMaps(_ layers: [LayerState], context: CAMContext) throws -> Tensor? {
        guard let gradient = context.inputGradient else { preconditionFailure("FullGrad needs the input gradient") }
        let input = context.input
        let (n, height, width) = (input.shape[0], input.shape[2], input.shape[3])
        var sum = [Float](repeating: 0, count: n * height * width)
        func add(_ terms: [Float], channels: Int, h: Int, w: Int) {
            for plane in 0..<(n * channels) {
                let scaled = MapPostprocessing.minMaxScaled(Array(terms[plane * h * w ..< (plane + 1) * h * w]))
                let up = MapPostprocessing.resizeBilinear(scaled, height: h, width: w, toHeight: height, toWidth: width)
                let image = plane / channels * height * width
                for i in up.indices { sum[image + i] += up[i] }
            }
        }
        add(zip(gradient.scalars, input.scalars).map { abs($0 * $1) }, channels: input.shape[1], h: height, w: width)
        for layer in layers {
            guard let module = context.model.module(named: layer.name), let bias = Self.bias(of: module) else { continue }
            let g = layer.requiredGradients.scalars
            let plane = layer.height * layer.width
            add(g.indices.map { abs(bias[$0 / plane % layer.channels] * g[$0]) }, channels: layer.channels, h: layer.height, w: layer.width)
        }
        let maps = (0..<n).flatMap { MapPostprocessing.minMaxScaled(Array(sum[$0 * height * width ..< ($0 + 1) * height * width])) }
        return Tensor(shape: [n, height, width], scalars: maps)
    }

    /// The bias a layer adds per output channel, for the layers FullGrad counts.
    static func bias(of module: Module) -> [Float]? {
        if let conv = module as? Conv2d { return conv.standsForLinear ? nil : conv.bias?.value.scalars }
        guard let norm = module as? BatchNorm2d else { return nil }
        let (mean, variance) = (norm.runningMean.value.scalars, norm.runningVar.value.scalars)
        let (weight, beta) = (norm.weight.value.scalars, norm.bias.value.scalars)
        return beta.indices.map { beta[$0] - mean[$0] * weight[$0] / (variance[$0] + norm.eps).squareRoot() }
    }
}
