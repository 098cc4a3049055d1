import CAMKit
import Foundation

/// A catalog entry as `GET /models` lists it.
public struct ModelInfo: Codable, Sendable, Equatable {
    public var name: String
    public var architecture: String
    public var summary: String
    public var classes: Int
    public var weightsPresent: Bool
    /// Whether the server loaded the model at start-up, so `POST /explain` can use it.
    public var loaded: Bool
    public var licence: String
    public var defaultLayer: String

    enum CodingKeys: String, CodingKey {
        case name, architecture, summary, classes, loaded, licence
        case weightsPresent = "weights_present"
        case defaultLayer = "default_layer"
    }

    public init(name: String, architecture: String, summary: String = "", classes: Int, weightsPresent: Bool,
                loaded: Bool, licence: String, defaultLayer: String) {
        self.name = name; self.architecture = architecture; self.summary = summary; self.classes = classes
        self.weightsPresent = weightsPresent; self.loaded = loaded; self.licence = licence; self.defaultLayer = defaultLayer
    }

    /// A catalog model; `loaded` says whether the server holds it.
    public init(descriptor: ModelDescriptor, loaded: Bool) {
        self.init(name: descriptor.name, architecture: descriptor.architecture, summary: descriptor.summary,
                  classes: descriptor.classes, weightsPresent: descriptor.weightsArePresent, loaded: loaded,
                  licence: descriptor.licence, defaultLayer: descriptor.defaultLayer)
    }

    /// A model handed to the server directly (embedding tools, tests): in memory, so its
    /// weights are present; there is no licence to report.
    public init(model: ExplainableModel) {
        self.init(name: model.name, architecture: String(describing: type(of: model.model)), summary: "",
                  classes: model.labels.count, weightsPresent: true, loaded: true, licence: "unknown",
                  defaultLayer: model.defaultLayer)
    }
}

/// One model's answer in the JSON of `POST /explain`.
public struct ExplainResult: Codable, Sendable, Equatable {
    public var model: String
    public var method: String
    public var layer: String
    public var targetIndex: Int
    public var targetLabel: String
    /// For an `A-vs-B` target, B's index; absent otherwise.
    public var versusIndex: Int?
    public var top: [Prediction]
    /// Probability of the top-1 class.
    public var confidence: Double
    /// This model's explain alone.
    public var elapsedMs: Double
    /// Waiting for another request's explain on the same model, before this one started.
    public var waitMs: Double

    enum CodingKeys: String, CodingKey {
        case model, method, layer, top, confidence
        case targetIndex = "target_index"
        case targetLabel = "target_label"
        case versusIndex = "versus_index"
        case elapsedMs = "elapsed_ms"
        case waitMs = "wait_ms"
    }

    public init(_ explanation: Explanation) {
        model = explanation.model
        method = explanation.method.rawValue
        layer = explanation.layer
        targetIndex = explanation.targetIndex
        targetLabel = explanation.targetLabel
        versusIndex = explanation.versusIndex
        top = explanation.top
        confidence = explanation.confidence
        elapsedMs = ExplainTiming.milliseconds(explanation.elapsedMilliseconds)
        waitMs = ExplainTiming.milliseconds(explanation.waitMilliseconds)
    }
}

/// The whole JSON answer of `POST /explain`.
public struct ExplainResponse: Codable, Sendable, Equatable {
    public struct ImageSize: Codable, Sendable, Equatable {
        public var width: Int
        public var height: Int
    }
    public var image: ImageSize
    public var results: [ExplainResult]
    public var timing: ExplainTiming
}

/// Where a request's time went, so a slow answer says whether the server was busy or the
/// models slow.
public struct ExplainTiming: Codable, Sendable, Equatable {
    /// Receiving the body.
    public var readMs: Double
    /// Waiting for an explain slot behind other requests.
    public var queueMs: Double
    /// Decoding, explaining with every model (waits for a model included) and rendering.
    public var computeMs: Double

    enum CodingKeys: String, CodingKey {
        case readMs = "read_ms"
        case queueMs = "queue_ms"
        case computeMs = "compute_ms"
    }

    init(read: Duration, queue: Duration, compute: Duration) {
        readMs = Self.milliseconds(read)
        queueMs = Self.milliseconds(queue)
        computeMs = Self.milliseconds(compute)
    }

    /// Rounded to the microsecond.
    static func milliseconds(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }

    static func milliseconds(_ duration: Duration) -> Double {
        milliseconds(duration.inSeconds * 1000)
    }
}

/// The JSON body of every error answer.
public struct ErrorBody: Codable, Sendable, Equatable {
    public var error: String
}
