/// What to explain and how, shared by the CLI, the gallery, the server and embedding tools.
public struct ExplainOptions: Sendable, Equatable {
    public var method: CAMMethodName = .gradcam
    /// Target layer; nil uses the model's default.
    public var layer: String?
    public var target: TargetSpec = .top1
    /// How many of the best classes to report with their probabilities.
    public var topK: Int = 5
    public var augSmooth = false
    public var eigenSmooth = false
    /// Weight of the photo in the overlay (pytorch-grad-cam's `image_weight`).
    public var alpha: Float = 0.5
    /// Finer-CAM's comparison classes and strength (`--compare`, `--finer-alpha`).
    public var finer = FinerSettings()

    public init(method: CAMMethodName = .gradcam, layer: String? = nil, target: TargetSpec = .top1, topK: Int = 5,
                augSmooth: Bool = false, eigenSmooth: Bool = false, alpha: Float = 0.5, finer: FinerSettings = FinerSettings()) {
        self.method = method
        self.layer = layer
        self.target = target
        self.topK = topK
        self.augSmooth = augSmooth
        self.eigenSmooth = eigenSmooth
        self.alpha = alpha
        self.finer = finer
    }

    /// Checks the values that do not depend on a model.
    public func validate() throws {
        guard topK >= 1 else { throw ExplainError.invalidOption("--top-k must be at least 1, got \(topK)") }
        guard alpha >= 0 && alpha <= 1 else { throw ExplainError.invalidOption("--alpha must be in [0, 1], got \(alpha)") }
        guard finer.alpha.isFinite else { throw ExplainError.invalidOption("--finer-alpha must be a finite number, got \(finer.alpha)") }
        guard !finer.comparisonRanks.isEmpty, finer.comparisonRanks.allSatisfy({ $0 >= 1 }) else {
            throw ExplainError.invalidOption("--compare ranks must be integers from 1, got \(finer.comparisonRanks)")
        }
    }
}
