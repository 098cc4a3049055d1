/// A class-activation-map method: how one target layer's activations (and the gradient of the
/// target score there) become one raw map per image. Everything around it — running the model,
/// ReLU, scaling, resizing, averaging layers, smoothing — is shared (`CAMExtractor`), as in
/// pytorch-grad-cam, where each method overrides one function of `BaseCAM`.
public protocol CAMMethod {
    /// The reference's name of the method (`gradcam`, `scorecam`, …).
    var name: String { get }
    /// Whether the method needs the gradient of the score; without, no backward pass is run.
    var usesGradients: Bool { get }
    /// The map of each image of the batch, (N, h, w), before ReLU.
    func rawMaps(_ layer: LayerState, context: CAMContext) throws -> Tensor
    /// Whether the method reruns only what follows its layers, on changed layer outputs
    /// (Ablation-CAM): the first pass of a native model is then traced into a graph, once per
    /// input size, so that those runs can start at the layer.
    var runsOnlyAfterLayers: Bool { get }
    /// The layers to capture, given the ones asked for; FullGrad takes every biased layer.
    func capturedLayers(of model: Module, requested: [String]) throws -> [String]
    /// Whether the method needs the gradient of the score with respect to the input (FullGrad).
    var usesInputGradient: Bool { get }
    /// The score a map explains, from the one asked for on an image with these logits;
    /// Finer-CAM swaps in its comparison with the most similar classes.
    func target(for score: TargetScore, logits: ArraySlice<Float>) -> TargetScore
    /// The (N, H, W) maps straight from every captured layer, for a method that combines layers
    /// otherwise than through per-layer maps (FullGrad); nil keeps the shared pipeline.
    func finalMaps(_ layers: [LayerState], context: CAMContext) throws -> Tensor?
    /// Image `image`'s map from its per-layer maps (each ReLU'd, scaled and at input size): the
    /// reference's `aggregate_multi_layers`, their mean scaled again.
    func aggregate(_ layerMaps: [[Float]], image: Int, context: CAMContext) throws -> [Float]
}

extension CAMMethod {
    public var runsOnlyAfterLayers: Bool { false }
    public func capturedLayers(of model: Module, requested: [String]) throws -> [String] { requested }
    public var usesInputGradient: Bool { false }
    public func target(for score: TargetScore, logits: ArraySlice<Float>) -> TargetScore { score }
    public func finalMaps(_ layers: [LayerState], context: CAMContext) throws -> Tensor? { nil }
    public func aggregate(_ layerMaps: [[Float]], image: Int, context: CAMContext) throws -> [Float] {
        let sum = layerMaps.dropFirst().reduce(layerMaps[0]) { zip($0, $1).map(+) }
        return MapPostprocessing.minMaxScaled(sum.map { $0 / Float(layerMaps.count) })
    }
}

/// A method that only decides one weight per channel (the reference's `get_cam_weights`);
/// the map is then the weighted channel sum, or its first principal component when smoothing.
public protocol ChannelWeightingMethod: CAMMethod {
    /// (N·C) weights, image-major.
    func channelWeights(_ layer: LayerState, context: CAMContext) throws -> [Float]
}

extension ChannelWeightingMethod {
    public func rawMaps(_ layer: LayerState, context: CAMContext) throws -> Tensor {
        let weights = try channelWeights(layer, context: context)
        let spatial = layer.height * layer.width
        let weighted = layer.activations.scalars.indices.map { layer.activations.scalars[$0] * weights[$0 / spatial] }
        return try context.combine(Tensor(shape: layer.activations.shape, scalars: weighted))
    }
}

/// One target layer's tensors for the batch: activations (N, C, h, w) and, for methods that
/// use them, the gradient of the target score with respect to them.
public struct LayerState {
    public let name: String
    public let activations: Tensor
    public let gradients: Tensor?

    public var batch: Int { activations.shape[0] }
    public var channels: Int { activations.shape[1] }
    public var height: Int { activations.shape[2] }
    public var width: Int { activations.shape[3] }

    /// One value per (image, channel), computed from the element range of that channel's
    /// plane in `activations` and `gradients`.
    public func perChannel(_ value: (Range<Int>) -> Float) -> [Float] {
        let plane = height * width
        return (0..<(batch * channels)).map { value($0 * plane ..< ($0 + 1) * plane) }
    }

    /// The gradients; a method that declares `usesGradients` always has them.
    public var requiredGradients: Tensor {
        guard let gradients else { preconditionFailure("gradients of '\(name)' were not computed") }
        return gradients
    }
}

/// What a method may need besides the layer: the input, the target of each image, eigen
/// smoothing, and forward passes of the model without any capture attached (for the
/// gradient-free Score-CAM and Ablation-CAM).
public struct CAMContext {
    /// The (possibly augmented) input batch, (N, 3, H, W).
    public let input: Tensor
    /// The gradient of the target score with respect to `input`, for methods that use it.
    public let inputGradient: Tensor?
    /// The score each image's map explains.
    public let targets: [TargetScore]
    /// Reduce channel terms by their first principal component instead of summing them.
    public let eigenSmooth: Bool
    /// Each image's target score on the unmodified input.
    public let originalScores: [Float]
    let model: Module
    /// Each target layer's layout and its output as the model produced it (before any
    /// reshaping into a map), for methods that feed a changed layer output back.
    let layouts: [String: ActivationLayout]
    let layerOutputs: [String: Tensor]
    let progress: ((CAMProgress) -> Void)?
    let methodName: String

    /// Σ over channels of (N, C, h, w) terms — or, with eigen smoothing, their projection on
    /// the first principal component (the reference's `get_2d_projection`).
    public func combine(_ terms: Tensor) throws -> Tensor {
        eigenSmooth ? try PrincipalComponent.projection(terms) : Self.channelSum(terms)
    }

    /// Σ over channels of (N, C, h, w) terms, for methods that ignore eigen smoothing.
    public static func channelSum(_ terms: Tensor) -> Tensor {
        let (n, c, h, w) = (terms.shape[0], terms.shape[1], terms.shape[2], terms.shape[3])
        var out = [Float](repeating: 0, count: n * h * w)
        terms.withScalars { p in
            for image in 0..<n {
                for channel in 0..<c {
                    let source = p + (image * c + channel) * h * w
                    for i in 0..<(h * w) { out[image * h * w + i] += source[i] }
                }
            }
        }
        return Tensor(shape: [n, h, w], scalars: out)
    }

    /// The target score of image `image` for each row of the model's output for `batch`, from a
    /// plain pass (`Module.inferenceOutput`).
    public func scores(of batch: Tensor, forImage image: Int) -> [Float] {
        targetScores(model.inferenceOutput(batch), image: image)
    }

    /// The target score of image `image` with `layer`'s output replaced by each ablated copy:
    /// only the layers after it run when `onlyAfterLayer` and the model can do that (a graph
    /// model, or a native model traced by the first pass), else the whole model on copies of the
    /// image.
    public func scores(ofImage image: Int, layer: String, ablation: ChannelAblation, onlyAfterLayer: Bool = true) throws -> [Float] {
        let single = row(input, image)
        let layout = layouts[layer] ?? .spatial
        if onlyAfterLayer, let model = model as? LayerSuffixRunning {
            return targetScores(try model.logits(of: single, layer: layer, ablation: ablation), image: image)
        }
        if onlyAfterLayer, let runner = model.tracedSuffixRunner(forInputShape: single.shape, layer: layer) {
            return targetScores(try runner.logits(of: single, value: layer, layout: layout, ablation: ablation), image: image)
        }
        let original = row(layerOutputs[layer]!, image)
        let replaced = layout.layerOutput(fromSpatial: ablation.dense(), original: original)
        let repeated = Tensor(shape: [ablation.count] + input.shape.dropFirst(),
                              scalars: Array([[Float]](repeating: single.scalars, count: ablation.count).joined()))
        guard let module = model.module(named: layer) else { throw UnknownLayerError(name: layer, validNames: []) }
        let handle = module.replaceOutput { _ in replaced }
        defer { handle() }
        return targetScores(model(repeated), image: image)
    }

    /// The gradient of the target scores at `layer` (in its own layout) with the layer's output
    /// replaced by `scale` times what it was, the whole batch at once.
    public func layerGradient(_ layer: String, scaledBy scale: Float) throws -> Tensor {
        guard let module = model.module(named: layer), let original = layerOutputs[layer] else {
            throw UnknownLayerError(name: layer, validNames: layerOutputs.keys.sorted())
        }
        let scaled = Tensor(shape: original.shape, scalars: original.scalars.map { $0 * scale }, requiresGrad: true)
        let handle = module.replaceOutput { _ in scaled }
        defer { handle() }
        let output = model(input)
        let classes = output.shape[1], logits = output.detached().scalars
        var seed = [Float](repeating: 0, count: output.count)
        for (i, target) in targets.enumerated() {
            let row = i * classes ..< (i + 1) * classes
            target.seed(into: &seed[row], logits: logits[row])
        }
        try output.backward(seed: Tensor(shape: output.shape, scalars: seed))
        return scaled.grad ?? Tensor.zeros(original.shape)
    }

    private func targetScores(_ logits: Tensor, image: Int) -> [Float] {
        let classes = logits.shape[1]
        return (0..<logits.shape[0]).map { targets[image].score(logits.scalars[$0 * classes ..< ($0 + 1) * classes]) }
    }

    /// Tells the caller how far a slow method has got.
    public func report(layer: String, completed: Int, total: Int) {
        progress?(CAMProgress(method: methodName, layer: layer, completed: completed, total: total))
    }
}

/// Progress of a method that runs many forward passes (Score-CAM, Ablation-CAM).
public struct CAMProgress: Sendable {
    public let method: String
    public let layer: String
    /// Forward passes (batches) done and to do for this layer and pass.
    public let completed: Int
    public let total: Int
}
