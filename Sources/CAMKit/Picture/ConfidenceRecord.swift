/// One model's prediction for one image: the unit the case-study charts and statistics are
/// built from (a batch run yields one per image and model).
public struct ConfidenceRecord: Equatable, Sendable {
    public var imageName: String
    public var modelName: String
    public var predictedLabel: String
    /// The predicted label's probability, 0…1.
    public var confidence: Double
    /// Whether the prediction is right; `nil` when the image has no known label.
    public var correct: Bool?
    public var trueLabel: String?

    /// `correct` defaults to comparing `predictedLabel` with `trueLabel` when that is known;
    /// pass it explicitly when label spellings differ between models and ground truth.
    public init(imageName: String, modelName: String, predictedLabel: String, confidence: Double,
                trueLabel: String? = nil, correct: Bool? = nil) {
        self.imageName = imageName
        self.modelName = modelName
        self.predictedLabel = predictedLabel
        self.confidence = confidence
        self.trueLabel = trueLabel
        self.correct = correct ?? trueLabel.map { $0 == predictedLabel }
    }
}

extension Array where Element == ConfidenceRecord {
    /// Model names in order of first appearance: the order of colours, legends and table rows.
    var modelNames: [String] { uniqued(map(\.modelName)) }
    /// Image names in order of first appearance: the order of the bar groups.
    var imageNames: [String] { uniqued(map(\.imageName)) }
}

private func uniqued(_ names: [String]) -> [String] {
    var seen = Set<String>()
    return names.filter { seen.insert($0).inserted }
}
