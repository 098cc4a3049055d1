import Foundation

/// The CAM methods by the names users type (`--method gradcam++`), as pytorch-grad-cam names them.
public enum CAMMethodName: String, CaseIterable, Sendable, Codable {
    case gradcam, hirescam
    case gradcamPlusPlus = "gradcam++"
    case xgradcam, layercam, eigencam, eigengradcam, scorecam, ablationcam
    case finercam, gradcamelementwise, kpcacam, fem, fullgrad, guidedbackprop, guidedgradcam, refinecam
    case sess, randomcam, sobelcam, shapleycam

    /// The method with default settings; Finer-CAM's comparison from `finer` (Grad-CAM based).
    public func makeMethod(finer: FinerSettings = FinerSettings()) -> CAMMethod {
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
        case .finercam: FinerCAM(comparisonRanks: finer.comparisonRanks, alpha: finer.alpha)
        case .gradcamelementwise: GradCAMElementWise()
        case .kpcacam: KPCACAM()
        case .fem: FEM()
        case .fullgrad: FullGrad()
        case .guidedbackprop: GuidedBackprop()
        case .guidedgradcam: GuidedGradCAM()
        case .refinecam: RefineCAM()
        case .sess: SESS()
        case .randomcam: RandomCAM()
        case .sobelcam: SobelCAM()
        case .shapleycam: ShapleyCAM()
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

/// Finer-CAM's options as users give them (`--compare 1,2,3 --finer-alpha 1`).
public struct FinerSettings: Sendable, Equatable {
    /// Ranks of the comparison classes by closeness of their logit to the target's, from 1.
    public var comparisonRanks: [Int]
    public var alpha: Float

    public init(comparisonRanks: [Int] = [1, 2, 3], alpha: Float = 1) {
        self.comparisonRanks = comparisonRanks
        self.alpha = alpha
    }

    /// Parses `1,2,3`; the error names the value and why it is refused.
    public static func ranks(parsing text: String) throws -> [Int] {
        let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let ranks = parts.compactMap(Int.init)
        guard !parts.isEmpty, ranks.count == parts.count, ranks.allSatisfy({ $0 >= 1 }) else {
            throw ExplainError.invalidOption("comparison ranks must be integers from 1 (1 = the closest class), comma-separated, got '\(text)'")
        }
        return ranks
    }
}
