/// Which score a map explains. Scores are raw logits, as in the reference's
/// `ClassifierOutputTarget`; a contrast is the difference of two logits.
public enum CAMTarget: Equatable, Sendable {
    /// The class with the highest logit (the reference's default).
    case topPrediction
    /// One class, by index.
    case classIndex(Int)
    /// One class, by its name in the extractor's labels.
    case label(String)
    /// The k highest-scoring classes, one map each, best first.
    case topK(Int)
    /// "Why A and not B": the score `logit[a] − logit[b]`, for fine-grained look-alikes.
    case contrast(Int, Int)

    /// The scores this target stands for on one image, given its logits.
    func resolve(logits: ArraySlice<Float>, labels: [String]?) throws -> [TargetScore] {
        let classes = logits.count
        func checked(_ index: Int) throws -> Int {
            guard (0..<classes).contains(index) else { throw CAMError.classOutOfRange(index, classes: classes) }
            return index
        }
        switch self {
        case .topPrediction:
            return [TargetScore(rankedClasses(logits)[0])]
        case .classIndex(let index):
            return [TargetScore(try checked(index))]
        case .label(let name):
            return [TargetScore(try Self.classIndex(of: name, in: labels, classes: classes))]
        case .topK(let k):
            guard k >= 1 && k <= classes else { throw CAMError.topKOutOfRange(k, classes: classes) }
            return rankedClasses(logits).prefix(k).map { TargetScore($0) }
        case .contrast(let a, let b):
            return [TargetScore(try checked(a), versus: try checked(b))]
        }
    }

    /// The index of `label` in `labels`; when absent, the error lists the closest names.
    public static func classIndex(of label: String, in labels: [String]?, classes: Int) throws -> Int {
        guard let labels else { throw CAMError.noLabels(label) }
        if let index = labels.firstIndex(of: label), index < classes { return index }
        if let index = labels.firstIndex(where: { $0.caseInsensitiveCompare(label) == .orderedSame }), index < classes {
            return index
        }
        let key = label.lowercased()
        let close = labels.sorted { editDistance($0.lowercased(), key) < editDistance($1.lowercased(), key) }.prefix(5)
        throw CAMError.unknownLabel(label, closeMatches: Array(close))
    }

    /// Class indices by decreasing logit; ties keep the lower index first, like `argmax`.
    private func rankedClasses(_ logits: ArraySlice<Float>) -> [Int] {
        let base = logits.startIndex
        return logits.indices.sorted { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }.map { $0 - base }
    }
}

/// One resolved score: `logit[classIndex]`, minus `logit[versus]` for a contrast.
public struct TargetScore: Equatable, Sendable {
    public let classIndex: Int
    public let versus: Int?

    public init(_ classIndex: Int, versus: Int? = nil) {
        self.classIndex = classIndex
        self.versus = versus
    }

    /// The score of one row of logits.
    public func score(_ logits: ArraySlice<Float>) -> Float {
        let base = logits.startIndex
        return logits[base + classIndex] - (versus.map { logits[base + $0] } ?? 0)
    }

    /// Its gradient with respect to that row: +1 at the class, −1 at the contrasted class.
    func seed(into row: inout ArraySlice<Float>) {
        let base = row.startIndex
        row[base + classIndex] += 1
        if let versus { row[base + versus] -= 1 }
    }
}

/// Levenshtein distance, to suggest labels close to a mistyped one.
private func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    var previous = Array(0...b.count)
    for (i, x) in a.enumerated() {
        var current = [i + 1]
        for (j, y) in b.enumerated() {
            current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)))
        }
        previous = current
    }
    return previous[b.count]
}
