import Foundation

/// A target as users write it, before it meets a model's labels: `top1`, a class index, a
/// label, or `A-vs-B` (each side an index or a label) for "why A and not B".
public enum TargetSpec: Equatable, Sendable {
    case top1
    case classIndex(Int)
    case label(String)
    indirect case contrast(TargetSpec, TargetSpec)

    /// Parses `top1`, `232`, `Border_collie`, `Border_collie-vs-collie`. Labels may contain
    /// hyphens, so only `-vs-` separates a contrast.
    public init(parsing text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { throw ExplainError.invalidOption("empty target; use top1, a class index, a label or A-vs-B") }
        if let range = trimmed.range(of: "-vs-") {
            let a = try TargetSpec(parsing: String(trimmed[..<range.lowerBound]))
            let b = try TargetSpec(parsing: String(trimmed[range.upperBound...]))
            guard a != .top1, b != .top1, !a.isContrast, !b.isContrast else {
                throw ExplainError.invalidOption("target '\(text)': a contrast names two classes, by index or label")
            }
            self = .contrast(a, b)
        } else if trimmed.lowercased() == "top1" {
            self = .top1
        } else if let index = Int(trimmed) {
            self = .classIndex(index)
        } else {
            self = .label(trimmed)
        }
    }

    private var isContrast: Bool { if case .contrast = self { true } else { false } }

    /// Checks that the classes this target names exist among `labels` (by index or label),
    /// so a bad target is reported before any photo is processed.
    public func validate(labels: [String]) throws {
        _ = try resolve(labels: labels)
    }

    /// The CAM target for a model with these labels; indices and labels are checked here,
    /// before any map is made.
    func resolve(labels: [String]) throws -> CAMTarget {
        func index(_ spec: TargetSpec) throws -> Int {
            switch spec {
            case .classIndex(let i):
                guard labels.indices.contains(i) else { throw CAMError.classOutOfRange(i, classes: labels.count) }
                return i
            case .label(let name): return try CAMTarget.classIndex(of: name, in: labels, classes: labels.count)
            case .top1, .contrast: throw ExplainError.invalidOption("a contrast names two classes, by index or label")
            }
        }
        switch self {
        case .top1: return .topPrediction
        case .contrast(let a, let b): return .contrast(try index(a), try index(b))
        default: return .classIndex(try index(self))
        }
    }
}
