import Foundation

/// A model users can name: a built-in zoo entry or one from a zoo file. Cheap to list;
/// `load()` reads the weights.
public struct ModelDescriptor: Sendable {
    public let name: String
    public let architecture: String
    public let summary: String
    public let classes: Int
    public let licence: String
    public let defaultLayer: String
    public let weightsURL: URL
    /// What to run to get the weights when they are absent.
    public let fetchHint: String
    let makeModel: @Sendable () throws -> ExplainableModel
    let makeStructure: (@Sendable () -> (model: Module & Classifier, preprocessing: Preprocessing))?

    public var weightsArePresent: Bool { FileManager.default.fileExists(atPath: weightsURL.path) }

    /// A descriptor for a model of your own.
    ///
    /// - Parameters:
    ///   - structure: builds the architecture without weights, with its preprocessing, so
    ///     `layers()` can list layers before the weights exist; nil makes `layers()` load them.
    ///   - load: builds the model and reads its weights.
    public init(name: String, architecture: String, summary: String, classes: Int, licence: String, defaultLayer: String,
                weightsURL: URL, fetchHint: String,
                structure: (@Sendable () -> (model: Module & Classifier, preprocessing: Preprocessing))? = nil,
                load: @escaping @Sendable () throws -> ExplainableModel) {
        self.name = name
        self.architecture = architecture
        self.summary = summary
        self.classes = classes
        self.licence = licence
        self.defaultLayer = defaultLayer
        self.weightsURL = weightsURL
        self.fetchHint = fetchHint
        self.makeModel = load
        self.makeStructure = structure
    }

    /// Builds the model and reads its weights.
    public func load() throws -> ExplainableModel { try makeModel() }

    /// The built-in zoo entry as a descriptor.
    public init(_ entry: ZooEntry) {
        self.init(name: entry.name, architecture: entry.architecture.rawValue, summary: entry.summary,
                  classes: entry.labels.count, licence: entry.licence, defaultLayer: entry.defaultLayer,
                  weightsURL: entry.weightsURL, fetchHint: ModelZoo.fetchCommand,
                  structure: { (entry.makeModel(), entry.preprocessing) }) { try ExplainableModel(entry: entry) }
    }
}
