import Foundation

/// A loaded model together with what explaining photos with it needs: its labels, its
/// input recipe and its default layer. Create one per model and reuse it.
///
/// Explaining registers hooks on the model for the length of one call, so calls on one
/// instance are serialised by a lock: it is safe to share between threads, and concurrent
/// explains on one model wait for each other. Use one instance per thread to run in parallel.
public final class ExplainableModel {
    public let name: String
    public let model: Module & Classifier
    public let labels: [String]
    public let preprocessing: Preprocessing
    public let defaultLayer: String
    /// Held by each explain and metric pass (`faithfulness`).
    let lock = NSLock()

    public init(name: String, model: Module & Classifier, labels: [String], preprocessing: Preprocessing,
                defaultLayer: String? = nil) {
        precondition(labels.count == model.outputSize, "\(name): \(labels.count) labels for \(model.outputSize) outputs")
        self.name = name
        self.model = model
        self.labels = labels
        self.preprocessing = preprocessing
        self.defaultLayer = defaultLayer ?? model.defaultTargetLayer
    }

    /// Loads a zoo model's weights; throws `MissingWeightsError` naming the fetch command.
    public convenience init(entry: ZooEntry) throws {
        self.init(name: entry.name, model: try entry.load(), labels: entry.labels, preprocessing: entry.preprocessing,
                  defaultLayer: entry.defaultLayer)
    }

    /// Explains one photo: predictions, the map of the chosen target and its overlay.
    public func explain(_ photo: RGBImage, options: ExplainOptions = ExplainOptions()) throws -> Explanation {
        try options.validate()
        let start = DispatchTime.now().uptimeNanoseconds
        let layer = options.layer ?? defaultLayer
        let input = preprocessing.tensor(from: photo)
        let cropBox = preprocessing.cropBox(for: photo)

        let locking = DispatchTime.now().uptimeNanoseconds
        var waited: UInt64 = 0
        let result: CAMResult = try lock.withLock {
            waited = DispatchTime.now().uptimeNanoseconds - locking
            let extractor = try CAMExtractor(module: model, method: options.method.makeMethod(finer: options.finer), layers: [layer], labels: labels)
            return try extractor.explain(input, target: try options.target.resolve(labels: labels), augSmooth: options.augSmooth, eigenSmooth: options.eigenSmooth)
        }

        let probabilities = result.probabilities.scalars
        let ranked = probabilities.indices.sorted { probabilities[$0] > probabilities[$1] || (probabilities[$0] == probabilities[$1] && $0 < $1) }
        let top = ranked.prefix(min(options.topK, labels.count)).map {
            Prediction(index: $0, label: labels[$0], probability: Double(probabilities[$0]))
        }
        let classMap = result.explanations[0][0]
        let low = classMap.layerMaps[layer] ?? classMap.map
        let overlayImage = overlay(map: classMap.map, on: photo, cropBox: cropBox, alpha: options.alpha)
        return Explanation(
            model: name, method: options.method, layer: layer, top: top,
            targetIndex: classMap.target.classIndex, targetLabel: labels[classMap.target.classIndex],
            versusIndex: classMap.target.versus, input: input, logits: result.logits,
            lowResolutionMap: low, map: classMap.map, cropBox: cropBox, overlay: overlayImage,
            elapsedMilliseconds: Double(DispatchTime.now().uptimeNanoseconds - start - waited) / 1e6,
            waitMilliseconds: Double(waited) / 1e6)
    }
}
