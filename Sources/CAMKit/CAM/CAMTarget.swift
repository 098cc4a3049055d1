import Foundation

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

/// One resolved score: `logit[classIndex]`, minus `logit[versus]` for a contrast, or
/// Finer-CAM's weighted comparison with similar classes.
public struct TargetScore: Equatable, Sendable {
    public let classIndex: Int
    public let versus: Int?
    /// Finer-CAM's comparison (the reference's `FinerWeightedTarget`), when set.
    public let comparison: FinerComparison?

    public init(_ classIndex: Int, versus: Int? = nil) {
        self.classIndex = classIndex
        self.versus = versus
        self.comparison = nil
    }

    public init(_ classIndex: Int, comparedWith comparison: FinerComparison) {
        self.classIndex = classIndex
        self.versus = nil
        self.comparison = comparison
    }

    /// The score of one row of logits.
    public func score(_ logits: ArraySlice<Float>) -> Float {
        let base = logits.startIndex
        if let comparison { return Float(comparison.score(main: classIndex, logits: logits.map(Double.init))) }
        return logits[base + classIndex] - (versus.map { logits[base + $0] } ?? 0)
    }

    /// Its gradient with respect to that row: +1 at the class, −1 at the contrasted class;
    /// for a Finer-CAM comparison, the derivative through its softmax weights.
    func seed(into row: inout ArraySlice<Float>, logits: ArraySlice<Float>) {
        let base = row.startIndex
        if let comparison {
            for (k, d) in comparison.gradient(main: classIndex, logits: logits.map(Double.init)).enumerated() {
                row[base + k] += Float(d)
            }
            return
        }
        row[base + classIndex] += 1
        if let versus { row[base + versus] -= 1 }
    }
}

/// Finer-CAM's target (pytorch-grad-cam's `FinerWeightedTarget`): the main logit's margin
/// over each comparison class, `z_main − α·z_j`, averaged with the comparison classes' softmax
/// probabilities as weights, so the map shows what separates the class from its look-alikes.
public struct FinerComparison: Equatable, Sendable {
    public let classes: [Int]
    public let alpha: Float

    public init(classes: [Int], alpha: Float) {
        self.classes = classes
        self.alpha = alpha
    }

    /// `Σ p_j (z_main − α z_j) / (Σ p_j + 1e-9)`.
    func score(main: Int, logits z: [Double]) -> Double {
        let p = probabilities(z)
        let numerator = classes.reduce(0.0) { $0 + p[$1] * (z[main] - Double(alpha) * z[$1]) }
        return numerator / (classes.reduce(0.0) { $0 + p[$1] } + 1e-9)
    }

    /// ∂score/∂z, with ∂p_j/∂z_k = p_j (δ_jk − p_k).
    func gradient(main: Int, logits z: [Double]) -> [Double] {
        let p = probabilities(z)
        let a = Double(alpha)
        let numerator = classes.reduce(0.0) { $0 + p[$1] * (z[main] - a * z[$1]) }
        let denominator = classes.reduce(0.0) { $0 + p[$1] } + 1e-9
        return z.indices.map { k in
            var dNumerator = 0.0, dDenominator = 0.0
            for j in classes {
                let dp = p[j] * ((j == k ? 1 : 0) - p[k])
                dNumerator += dp * (z[main] - a * z[j]) + p[j] * ((k == main ? 1 : 0) - (k == j ? a : 0))
                dDenominator += dp
            }
            return (dNumerator * denominator - numerator * dDenominator) / (denominator * denominator)
        }
    }

    private func probabilities(_ z: [Double]) -> [Double] {
        let top = z.max() ?? 0
        let e = z.map { Foundation.exp($0 - top) }
        let sum = e.reduce(0, +)
        return e.map { $0 / sum }
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
