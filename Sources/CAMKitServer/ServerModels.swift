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
    public var elapsedMs: Double

    enum CodingKeys: String, CodingKey {
        case model, method, layer, top, confidence
        case targetIndex = "target_index"
        case targetLabel = "target_label"
        case versusIndex = "versus_index"
        case elapsedMs = "elapsed_ms"
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
        elapsedMs = (explanation.elapsedMilliseconds * 1000).rounded() / 1000
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
}

/// The JSON body of every error answer.
public struct ErrorBody: Codable, Sendable, Equatable {
    public var error: String
}
