/// Which quality measures a gallery computes (`--metrics`). Each costs forward passes per photo
/// and model, run as one batch through the model's fused inference path, so plain galleries
/// (`none`) keep their speed.
public enum GalleryMetricSet: String, CaseIterable, Codable, Sendable {
    /// Only the explains.
    case none
    /// Drop and increase in confidence: a batch of 2 (the input and its masked copy).
    case confidence
    /// Those, the pointing game on the photos with a box, and ROAD combined: a batch of 20 (18
    /// imputed copies, each imputation a sparse linear solve per channel).
    case all

    /// The setting recorded in results and shard manifests; those made before there were
    /// metrics record none, which is `none`.
    static func name(recorded: String?) -> String { recorded ?? none.rawValue }

    /// Parses `none`, `confidence` or `all`; the error lists them.
    public init(parsing text: String) throws {
        guard let set = Self(rawValue: text.lowercased()) else {
            throw ExplainError.invalidOption("unknown metrics '\(text)'; use \(Self.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = set
    }
}
