/// The CAM methods by the names users type (`--method gradcam++`), as pytorch-grad-cam names them.
public enum CAMMethodName: String, CaseIterable, Sendable, Codable {
    case gradcam, hirescam
    case gradcamPlusPlus = "gradcam++"
    case xgradcam, layercam, eigencam, eigengradcam, scorecam, ablationcam

    public func makeMethod() -> CAMMethod {
        switch self {
        case .gradcam: GradCAM()
        case .hirescam: HiResCAM()
        case .gradcamPlusPlus: GradCAMPlusPlus()
        case .xgradcam: XGradCAM()
        case .layercam: LayerCAM()
        case .eigencam: EigenCAM()
        case .eigengradcam: EigenGradCAM()
        case .scorecam: ScoreCAM()
        case .ablationcam: AblationCAM()
        }
    }

    /// Parses a user's method name; the error lists the valid ones.
    public init(parsing text: String) throws {
        guard let name = Self(rawValue: text.lowercased()) else {
            throw ExplainError.invalidOption("unknown method '\(text)'; methods: \(Self.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = name
    }
}
