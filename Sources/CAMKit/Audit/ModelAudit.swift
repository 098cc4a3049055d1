import Foundation

/// `explain audit`: for one model and a folder of photos, how far each method's maps can be
/// trusted — the sanity checks (do they depend on the weights, on the class?) and the
/// faithfulness metrics (ROAD, deletion / insertion) — with a verdict per method.
public struct ModelAudit {
    public let model: ExplainableModel
    public let methods: [CAMMethodName]
    public var finer: FinerSettings
    public var seed: UInt32
    /// Cascade steps of the randomisation (nil: every unit) and whether to randomise each unit alone too.
    public var cascadeSteps: Int?
    public var independent: Bool
    /// Called with each (photo, method) about to run.
    public var progress: ((_ photo: String, _ method: CAMMethodName) -> Void)?

    public init(model: ExplainableModel, methods: [CAMMethodName], finer: FinerSettings = FinerSettings(), seed: UInt32 = 0,
                cascadeSteps: Int? = nil, independent: Bool = false) {
        self.model = model
        self.methods = methods
        self.finer = finer
        self.seed = seed
        self.cascadeSteps = cascadeSteps
        self.independent = independent
    }

    /// One photo, one method.
    public struct PhotoResult: Codable, Sendable {
        public let photo: String
        public let sanity: SanityCheck.Report
        public let roadCombined: Float
        public let deletionAUC: Float
        public let insertionAUC: Float
    }

    /// One method over all photos: means, and the verdicts from the mean correlations.
    public struct MethodSummary: Codable, Sendable {
        public let method: String
        public let photos: [PhotoResult]
        public let headSpearman: Float
        public let cascadeSpearman: Float
        public let randomLogitSpearman: Float
        public let roadCombined: Float
        public let deletionAUC: Float
        public let insertionAUC: Float
        public let dependsOnWeights: SanityCheck.Verdict
        public let dependsOnClass: SanityCheck.Verdict
        public let seconds: Double
    }

    public func run(_ photos: [URL], decoder: ImageDecoder = ImageDecoder()) throws -> [MethodSummary] {
        let inputs = try photos.map { (name: $0.lastPathComponent, tensor: model.preprocessing.tensor(from: try decoder.decode(contentsOf: $0))) }
        return try methods.map { name in
            let start = Date()
            let results = try inputs.map { photo -> PhotoResult in
                progress?(photo.name, name)
                let make = { name.makeMethod(finer: finer) }
                let sanity = try SanityCheck(method: make, layer: model.defaultLayer, seed: seed, cascadeSteps: cascadeSteps,
                                             independent: independent).run(model: model.model, input: photo.tensor)
                let maps = try CAMExtractor(module: model.model, method: make(), layers: [model.defaultLayer])
                    .explain(photo.tensor, target: .classIndex(sanity.targetClass)).maps()
                let metrics = PerturbationMetrics(model: model.model)
                let target = [TargetScore(sanity.targetClass)]
                let road = metrics.roadCombined(input: photo.tensor, maps: maps, targets: target,
                                                imputer: NoisyLinearImputer(seed: seed))[0]
                let auc = metrics.deletionInsertion(input: photo.tensor, maps: maps, classes: [sanity.targetClass], softmax: true)[0]
                return PhotoResult(photo: photo.name, sanity: sanity, roadCombined: road, deletionAUC: auc.deletion, insertionAUC: auc.insertion)
            }
            func mean(_ f: (PhotoResult) -> Float) -> Float { results.map(f).reduce(0, +) / Float(max(results.count, 1)) }
            let head = mean(\.sanity.headSpearman), cascade = mean(\.sanity.cascadeSpearman)
            let logit = mean(\.sanity.randomLogit.spearman)
            return MethodSummary(method: name.rawValue, photos: results, headSpearman: head, cascadeSpearman: cascade,
                                 randomLogitSpearman: logit, roadCombined: mean(\.roadCombined), deletionAUC: mean(\.deletionAUC),
                                 insertionAUC: mean(\.insertionAUC), dependsOnWeights: .weights(head: head, cascade: cascade),
                                 dependsOnClass: .classes(logit), seconds: Date().timeIntervalSince(start))
        }
    }

    /// `audit.json` and `index.html` into `folder`.
    public func write(_ summaries: [MethodSummary], photos: Int, to folder: URL) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        struct File: Encodable { let model: String; let layer: String; let seed: UInt32; let methods: [MethodSummary] }
        try encoder.encode(File(model: model.name, layer: model.defaultLayer, seed: seed, methods: summaries))
            .write(to: folder.appendingPathComponent("audit.json"))
        try Self.page(model: model.name, layer: model.defaultLayer, photos: photos, summaries)
            .write(to: folder.appendingPathComponent("index.html"), atomically: true, encoding: .utf8)
    }

    /// The table, as Markdown-like plain text for the terminal.
    public static func table(_ summaries: [MethodSummary]) -> String {
        let header = "method              weights  ρ head  ρ cascade  class   ρ other  ROAD     deletion  insertion  time"
        let rows = summaries.map { s in
            [s.method.padding(toLength: 20, withPad: " ", startingAt: 0), s.dependsOnWeights.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0),
             String(format: "%6.3f  %9.3f  ", s.headSpearman, s.cascadeSpearman), s.dependsOnClass.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0),
             String(format: "%7.3f  %7.4f  %8.4f  %9.4f  %.1f s", s.randomLogitSpearman, s.roadCombined, s.deletionAUC, s.insertionAUC, s.seconds)].joined()
        }
        return ([header] + rows).joined(separator: "\n")
    }

    static func page(model: String, layer: String, photos: Int, _ summaries: [MethodSummary]) -> String {
        let e = GalleryPage.escape
        let rows = summaries.map { s in
            "<tr><td>\(e(s.method))</td><td>\(s.dependsOnWeights.rawValue)</td>"
                + String(format: "<td>%.3f</td><td>%.3f</td>", s.headSpearman, s.cascadeSpearman)
                + "<td>\(s.dependsOnClass.rawValue)</td>"
                + String(format: "<td>%.3f</td><td>%.4f</td><td>%.4f</td><td>%.4f</td><td>%.1f s</td></tr>",
                         s.randomLogitSpearman, s.roadCombined, s.deletionAUC, s.insertionAUC, s.seconds)
        }
        return """
            <!doctype html>
            <html><head><meta charset="utf-8"><title>Audit of \(e(model))</title>
            <style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:first-child{text-align:left}</style>
            </head><body>
            <h1>Can the maps of \(e(model)) be trusted?</h1>
            <p>\(photos) photos, layer <code>\(e(layer))</code>. <b>Depends on the model's weights</b>: yes when
            randomising the layers after the target layer changes the map (Spearman ρ with the original below 0.8),
            weakly when only randomising further down does, no when the map survives it all — a map that does not
            change explains the photo, not the model. <b>Depends on the class</b>: the map of another, random class
            compared with the top class's. <b>ROAD</b>: (LeRF − MoRF) / 2 of the logit, higher is more faithful;
            <b>deletion</b> (lower is better) and <b>insertion</b> (higher) AUCs of the probability.</p>
            <table><tr><th>method</th><th>depends on weights</th><th>ρ after the head</th><th>ρ after the cascade</th>
            <th>depends on class</th><th>ρ other class</th><th>ROAD</th><th>deletion AUC</th><th>insertion AUC</th><th>time</th></tr>
            \(rows.joined(separator: "\n"))
            </table><p>Details per photo in <a href="audit.json">audit.json</a>.</p></body></html>

            """
    }
}
