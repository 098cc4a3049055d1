/// Guided Backpropagation (Springenberg et al. 2015): the gradient of the score with respect
/// to the input pixels, with every ReLU module passing back only positive gradients where its
/// input was positive — fine-grained edges of what raises the score, not class-discriminative
/// on its own. As pytorch-grad-cam's `GuidedBackpropReLUModel`, only ReLU modules (and graph
/// ReLU ops) are guided; ReLU6, GELU and the rest keep their gradients.
///
/// `gradients(…)` is the reference's output, (N, 3, H, W); as a heat map the method shows its
/// magnitude, Σ over colour channels of |gradient|.
public struct GuidedBackprop: CAMMethod {
    public let name = "guidedbackprop"
    public let usesGradients = false
    public init() {}

    /// Whether ReLUs being recorded now are guided.
    @TaskLocal static var isActive = false

    /// The guided gradient of each image's target score with respect to the input.
    public static func gradients(model: Module, input: Tensor, targets: [TargetScore]) throws -> Tensor {
        precondition(targets.count == input.shape[0], "one target per image")
        let x = Tensor(shape: input.shape, scalars: input.scalars, requiresGrad: true)
        let output = $isActive.withValue(true) { model(x) }
        let classes = output.shape[1]
        let logits = output.detached().scalars
        var seed = [Float](repeating: 0, count: output.count)
        for (i, target) in targets.enumerated() {
            let row = i * classes ..< (i + 1) * classes
            target.seed(into: &seed[row], logits: logits[row])
        }
        try output.backward(seed: Tensor(shape: output.shape, scalars: seed))
        return x.grad ?? Tensor(repeating: 0, shape: input.shape)
    }

    /// Σ_c |gradient| of image `image`, (H·W).
    static func magnitude(model: Module, context: CAMContext, image: Int) throws -> [Float] {
        let g = try gradients(model: model, input: row(context.input, image), targets: [context.targets[image]])
        let plane = g.shape[2] * g.shape[3]
        return (0..<plane).map { p in (0..<g.shape[1]).reduce(0) { $0 + abs(g.scalars[$1 * plane + p]) } }
    }

    public func rawMaps(_ layer: LayerState, context: CAMContext) throws -> Tensor {
        preconditionFailure("Guided Backprop makes its maps at the input (finalMaps)")
    }

    public func finalMaps(_ layers: [LayerState], context: CAMContext) throws -> Tensor? {
        let (n, h, w) = (context.input.shape[0], context.input.shape[2], context.input.shape[3])
        let maps = try (0..<n).flatMap { try MapPostprocessing.minMaxScaled(Self.magnitude(model: context.model, context: context, image: $0)) }
        return Tensor(shape: [n, h, w], scalars: maps)
    }
}

/// ReLU whose backward lets through only positive gradients at positive inputs.
func guidedReLU(_ x: Tensor) -> Tensor {
    let out = relu(x.detached())
    return Tensor.record(out, op: "guided_relu", inputs: [x]) { g, _ in
        [Tensor(shape: g.shape, scalars: zip(g.scalars, x.scalars).map { $1 > 0 && $0 > 0 ? $0 : 0 })]
    }
}
