import Foundation

/// One model's result on one photo: a row of `results.csv`.
public struct GalleryModelResult: Codable, Equatable, Sendable {
    public var model: String
    public var predictedIndex: Int
    public var predictedLabel: String
    public var confidence: Double
    public var top: [Prediction]
    /// The class the map explains (the prediction, unless `--target` says otherwise).
    public var targetLabel: String
    public var verdict: Verdict
    /// The overlay PNG, relative to the gallery folder.
    public var overlayFile: String
    public var elapsedMilliseconds: Double
    /// The map's quality measures; nil when the gallery computed none.
    public var metrics: GalleryMetrics?

    public var correct: Bool? { verdict.isCorrect }

    public init(model: String, predictedIndex: Int, predictedLabel: String, confidence: Double, top: [Prediction],
                targetLabel: String, verdict: Verdict, overlayFile: String, elapsedMilliseconds: Double,
                metrics: GalleryMetrics? = nil) {
        self.model = model
        self.predictedIndex = predictedIndex
        self.predictedLabel = predictedLabel
        self.confidence = confidence
        self.top = top
        self.targetLabel = targetLabel
        self.verdict = verdict
        self.overlayFile = overlayFile
        self.elapsedMilliseconds = elapsedMilliseconds
        self.metrics = metrics
    }
}

/// One photo of a gallery: its results with every model, or why it could not be read.
public struct GalleryImageResult: Codable, Equatable, Sendable {
    /// The photo's file name (what labels files name).
    public var file: String
    /// The path it was read from, as given (resume matches on it).
    public var source: String
    /// The folder (relative to the gallery) holding this photo's pictures.
    public var folder: String
    public var truth: GroundTruth?
    /// Why the photo was not explained (corrupt, unsupported …); nil when it was.
    public var error: String?
    /// The panel PNG, relative to the gallery folder.
    public var panelFile: String?
    public var results: [GalleryModelResult]

    public var isBad: Bool { error != nil }

    public init(file: String, source: String, folder: String, truth: GroundTruth?, error: String?, panelFile: String?,
                results: [GalleryModelResult]) {
        self.file = file
        self.source = source
        self.folder = folder
        self.truth = truth
        self.error = error
        self.panelFile = panelFile
        self.results = results
    }
}

/// Everything a gallery holds: `results.json` is this, and `--resume` reads it back (or, after
/// a killed run, the same from `progress.jsonl`).
public struct GalleryResults: Codable, Equatable, Sendable {
    public static let currentVersion = 1
    public var version = GalleryResults.currentVersion
    public var models: [String]
    public var method: String
    public var layer: String?
    public var target: String
    /// The `--metrics` setting (`GalleryMetricSet`); nil in galleries made before there were
    /// metrics, which is `none`.
    public var metrics: String?
    public var images: [GalleryImageResult] = []

    public init(models: [String], method: String, layer: String?, target: String, metrics: String? = nil,
                images: [GalleryImageResult] = []) {
        self.models = models
        self.method = method
        self.layer = layer
        self.target = target
        self.metrics = metrics
        self.images = images
    }

    /// The records of the confidence charts and statistics: one per photo and model.
    public var confidenceRecords: [ConfidenceRecord] {
        images.flatMap { image in
            image.results.map {
                // ConfidenceRecord compares the spellings when `correct` is nil and a true label is
                // given, so the label goes only with predictions that can be judged.
                ConfidenceRecord(imageName: image.file, modelName: $0.model, predictedLabel: $0.predictedLabel,
                                 confidence: $0.confidence, trueLabel: $0.correct == nil ? nil : image.truth?.text, correct: $0.correct)
            }
        }
    }

    /// The photos that could not be explained.
    public var badImages: [GalleryImageResult] { images.filter(\.isBad) }

    /// Each model's metric means, in `models` order.
    public var metricMeans: [GalleryMetricMeans] {
        models.map { model in
            let metrics = images.flatMap { $0.results.filter { $0.model == model }.compactMap(\.metrics) }
            func mean(_ values: [Double]) -> Double? { values.isEmpty ? nil : values.reduce(0, +) / Double(values.count) }
            let drops = metrics.compactMap(\.confidenceDrop)
            let increases = metrics.compactMap(\.confidenceIncrease).map { $0 ? 100.0 : 0 }
            let hits = metrics.compactMap(\.pointingHit).map { $0 ? 100.0 : 0 }
            let road = metrics.compactMap(\.roadCombined)
            return GalleryMetricMeans(model: model, averageDrop: mean(drops), increaseInConfidence: mean(increases),
                                      pointingAccuracy: mean(hits), roadCombined: mean(road), confidenceCount: drops.count,
                                      pointingCount: hits.count, roadCount: road.count)
        }
    }

    /// Counts of each verdict per model.
    public func verdictCounts(model: String) -> [Verdict: Int] {
        var counts: [Verdict: Int] = [:]
        for image in images { for r in image.results where r.model == model { counts[r.verdict, default: 0] += 1 } }
        return counts
    }
}
