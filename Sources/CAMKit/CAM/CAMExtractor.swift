/// Class-activation maps of a model at named layers: runs the model, captures what the method
/// needs, and post-processes as pytorch-grad-cam's `BaseCAM` does — per layer ReLU, min–max
/// scaling and bilinear resize to the input size; over layers the mean, scaled again.
///
/// Hooks are attached only for the duration of a pass: the forward passes that Score-CAM and
/// Ablation-CAM run on modified inputs see a model with nothing attached and record no graph.
public final class CAMExtractor {
    public let model: Module
    public let method: CAMMethod
    public let layers: [String]
    /// Class names, for `CAMTarget.label`.
    public var labels: [String]?

    /// - Parameter layers: dotted module names; the model's default target layer when omitted.
    /// - Throws: `UnknownLayerError`, listing the valid names, when a layer does not exist.
    public convenience init(model: Classifier, method: CAMMethod, layers: [String]? = nil, labels: [String]? = nil) throws {
        try self.init(module: model, method: method, layers: layers ?? [model.defaultTargetLayer], labels: labels)
    }

    /// The same for any module whose output is (N, classes) scores.
    public init(module: Module, method: CAMMethod, layers: [String], labels: [String]? = nil) throws {
        precondition(!layers.isEmpty, "at least one target layer")
        _ = try LayerCapture(model: module, layers: layers, gradients: false)
        self.model = module
        self.method = method
        self.layers = layers
        self.labels = labels
    }

    /// Maps for the same kind of target on every image of `input` (N, 3, H, W).
    public func explain(_ input: Tensor, target: CAMTarget = .topPrediction, augSmooth: Bool = false,
                        eigenSmooth: Bool = false, progress: ((CAMProgress) -> Void)? = nil) throws -> CAMResult {
        guard input.rank == 4 else { throw CAMError.inputShape(input.shape) }
        return try explain(input, targets: Array(repeating: target, count: input.shape[0]), augSmooth: augSmooth,
                           eigenSmooth: eigenSmooth, progress: progress)
    }

    /// Maps for one target per image. With `augSmooth`, each map is the mean of the six
    /// test-time augmentations' maps (and `.topPrediction` is decided per augmented input,
    /// as in the reference); `eigenSmooth` reduces channels by their first principal
    /// component instead of summing them.
    public func explain(_ input: Tensor, targets: [CAMTarget], augSmooth: Bool = false,
                        eigenSmooth: Bool = false, progress: ((CAMProgress) -> Void)? = nil) throws -> CAMResult {
        guard input.rank == 4 else { throw CAMError.inputShape(input.shape) }
        guard targets.count == input.shape[0] else { throw CAMError.targetCount(targets.count, images: input.shape[0]) }
        guard augSmooth else {
            let result = try pass(input, targets: targets, eigenSmooth: eigenSmooth, progress: progress)
            return result.camResult(layers: layers, maps: result.maps)
        }
        let augmentations = TestTimeAugmentation.gradCAMDefault, n = input.shape[0]
        // Fewer images than augmentations run as one pass of all six, which keeps the cores
        // busier than six small ones; larger batches run one augmentation at a time.
        let groups = n < augmentations.count ? [augmentations] : augmentations.map { [$0] }
        var identity: Pass?
        var sum: [Tensor]?
        for group in groups {
            let batch = group.count == 1 ? group[0].augment(input) : concat(group.map { $0.augment(input) }, axis: 0)
            let result = try pass(batch, targets: Array(Array(repeating: targets, count: group.count).joined()),
                                  eigenSmooth: eigenSmooth, progress: progress)
            for (k, augmentation) in group.enumerated() {
                let part = group.count == 1 ? result : result.images(k * n ..< (k + 1) * n)
                let maps = part.maps.map(augmentation.deaugment)
                sum = sum.map { zip($0, maps).map { $0 + $1 } } ?? maps
                if augmentation.isIdentity { identity = part }
            }
        }
        let count = Float(augmentations.count)
        let mean = sum!.map { Tensor(shape: $0.shape, scalars: $0.scalars.map { $0 / count }) }
        return identity!.camResult(layers: layers, maps: mean)
    }

    /// One pass of the reference's `BaseCAM.forward` on `input`, for every target of each image.
    private func pass(_ input: Tensor, targets: [CAMTarget], eigenSmooth: Bool,
                      progress: ((CAMProgress) -> Void)?) throws -> Pass {
        let n = input.shape[0], height = input.shape[2], width = input.shape[3]
        let layers = try method.capturedLayers(of: model, requested: self.layers)
        var capture: LayerCapture? = try LayerCapture(model: model, layers: layers, gradients: method.usesGradients)
        let x = method.usesInputGradient ? Tensor(shape: input.shape, scalars: input.scalars, requiresGrad: true) : input
        let output = method.runsOnlyAfterLayers && !(model is LayerSuffixRunning)
            ? model.tracingOnce(x) { capture!.forward(model, x) }
            : capture!.forward(model, x)
        let logits = output.detached()
        let classes = logits.shape[1]
        let scores = try (0..<n).map { i in
            let row = logits.scalars[i * classes ..< (i + 1) * classes]
            return try targets[i].resolve(logits: row, labels: labels).map { method.target(for: $0, logits: row) }
        }
        let k = scores[0].count
        guard scores.allSatisfy({ $0.count == k }) else { throw CAMError.mapCountDiffers(scores.map(\.count)) }
        let layouts = layers.map { (model as? Classifier)?.activationLayout(ofLayer: $0) ?? .spatial }
        let layerOutputs = capture!.activations
        let activations = try layers.indices.map { l -> Tensor in
            let a = layerOutputs[layers[l]]!
            guard layouts[l].fits(a.shape) else { throw CAMError.layerShape(layer: layers[l], shape: a.shape, layout: layouts[l]) }
            return layouts[l].spatial(a)
        }
        var gradients: [[Tensor?]] = Array(repeating: Array(repeating: nil, count: layers.count), count: k)
        var inputGradients: [Tensor?] = Array(repeating: nil, count: k)
        if method.usesGradients {
            for t in 0..<k {
                var seed = [Float](repeating: 0, count: logits.count)
                for i in 0..<n {
                    let row = i * classes ..< (i + 1) * classes
                    scores[i][t].seed(into: &seed[row], logits: logits.scalars[row])
                }
                try capture!.backward(from: output, seed: Tensor(shape: logits.shape, scalars: seed))
                gradients[t] = layers.indices.map { l in capture!.gradients[layers[l]].map(layouts[l].spatial) }
                inputGradients[t] = x.grad
            }
        }
        capture = nil  // the method's own forward passes must run unobserved

        var maps: [Tensor] = []
        var layerMaps: [[[String: Tensor]]] = Array(repeating: [], count: k)  // [k][image][layer]
        for t in 0..<k {
            let imageTargets = scores.map { $0[t] }
            let context = CAMContext(input: input, inputGradient: inputGradients[t], targets: imageTargets, eigenSmooth: eigenSmooth,
                                     originalScores: (0..<n).map { imageTargets[$0].score(logits.scalars[$0 * classes ..< ($0 + 1) * classes]) },
                                     model: model, layouts: Dictionary(uniqueKeysWithValues: zip(layers, layouts)),
                                     layerOutputs: layerOutputs, progress: progress, methodName: method.name)
            let states = layers.indices.map { LayerState(name: layers[$0], activations: activations[$0], gradients: gradients[t][$0]) }
            if let final = try method.finalMaps(states, context: context) {
                maps.append(final)
                layerMaps[t] = Array(repeating: [:], count: n)
                continue
            }
            var resized = [[[Float]]](repeating: [], count: n)
            var perImage = [[String: Tensor]](repeating: [:], count: n)
            for (layer, state) in zip(layers, states) {
                let raw = try method.rawMaps(state, context: context)
                let (h, w) = (raw.shape[1], raw.shape[2])
                for i in 0..<n {
                    let scaled = MapPostprocessing.minMaxScaled(MapPostprocessing.relu(Array(raw.scalars[i * h * w ..< (i + 1) * h * w])))
                    perImage[i][layer] = Tensor(shape: [h, w], scalars: scaled)
                    resized[i].append(MapPostprocessing.resizeBilinear(scaled, height: h, width: w, toHeight: height, toWidth: width))
                }
            }
            maps.append(Tensor(shape: [n, height, width], scalars: try resized.indices.flatMap {
                try method.aggregate(resized[$0], image: $0, context: context)
            }))
            layerMaps[t] = perImage
        }
        return Pass(logits: logits, scores: scores, maps: maps, layerMaps: layerMaps)
    }

    /// What one pass produced: `maps[k]` is (N, H, W).
    private struct Pass {
        let logits: Tensor
        let scores: [[TargetScore]]
        let maps: [Tensor]
        let layerMaps: [[[String: Tensor]]]

        /// The images `range` of the batch.
        func images(_ range: Range<Int>) -> Pass {
            let classes = logits.shape[1]
            let rows = Tensor(shape: [range.count, classes],
                              scalars: Array(logits.scalars[range.lowerBound * classes ..< range.upperBound * classes]))
            let sliced = maps.map { map in
                let plane = map.shape[1] * map.shape[2]
                return Tensor(shape: [range.count] + map.shape.dropFirst(),
                              scalars: Array(map.scalars[range.lowerBound * plane ..< range.upperBound * plane]))
            }
            return Pass(logits: rows, scores: Array(scores[range]), maps: sliced, layerMaps: layerMaps.map { Array($0[range]) })
        }

        func camResult(layers: [String], maps: [Tensor]) -> CAMResult {
            let n = logits.shape[0]
            let (h, w) = (maps[0].shape[1], maps[0].shape[2])
            let explanations = (0..<n).map { (i: Int) -> [ClassMap] in
                scores[i].indices.map { (t: Int) -> ClassMap in
                    let map = Array(maps[t].scalars[i * h * w ..< (i + 1) * h * w])
                    return ClassMap(target: scores[i][t], map: Tensor(shape: [h, w], scalars: map), layerMaps: layerMaps[t][i])
                }
            }
            return CAMResult(logits: logits, probabilities: softmax(logits, axis: 1).detached(), layers: layers,
                             explanations: explanations)
        }
    }
}
