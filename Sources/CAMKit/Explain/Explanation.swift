/// One class and its probability.
public struct Prediction: Sendable, Equatable, Codable {
    public let index: Int
    public let label: String
    public let probability: Double
}

/// What one model says about one photo, and where it looked.
public struct Explanation {
    public let model: String
    public let method: CAMMethodName
    public let layer: String
    /// The best classes, most probable first.
    public let top: [Prediction]
    /// The class the map explains, and for a contrast the class it is set against.
    public let targetIndex: Int
    public let targetLabel: String
    public let versusIndex: Int?
    /// Probability of the top-1 class.
    public var confidence: Double { top.first?.probability ?? 0 }
    /// (1, 3, H, W) model input, (1, classes) logits.
    public let input: Tensor
    public let logits: Tensor
    /// The map at the target layer's resolution, (h, w), in [0, 1] (for several layers, the first).
    public let lowResolutionMap: Tensor
    /// The map at the model's input size, (H, W), in [0, 1].
    public let map: Tensor
    /// Where the model input was cut from the photo, in photo pixels.
    public let cropBox: PixelRect
    /// The map over the whole photo (red = high), at the photo's resolution.
    public let overlay: RGBImage
    /// Time this explain took, without `waitMilliseconds`.
    public let elapsedMilliseconds: Double
    /// Time spent waiting for another explain on the same model to finish (calls on one
    /// instance are serialised); kept apart so `elapsedMilliseconds` measures this explain alone.
    public let waitMilliseconds: Double
}
