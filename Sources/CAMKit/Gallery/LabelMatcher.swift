/// Matches ground-truth labels to one model's class names, leniently: case, spaces,
/// underscores and hyphens do not count (`border_collie` = `Border collie`, `shih tzu` =
/// `Shih-Tzu`), a `kind:name` label also matches by `name` (`non-dog:cat` → `cat`), any of
/// `a|b` may match, and a WordNet id matches where the model's classes carry one (the
/// ImageNet-1k models). A label no class matches is "not in this model's classes".
public struct LabelMatcher: Sendable {
    public let labels: [String]
    /// One WordNet id per class, or nil when the model's classes have none.
    public let wordNetIDs: [String]?
    private let classesByName: [String: [Int]]
    private let classesByWordNetID: [String: [Int]]

    public init(labels: [String], wordNetIDs: [String]? = nil) {
        precondition(wordNetIDs == nil || wordNetIDs!.count == labels.count, "one WordNet id per class")
        self.labels = labels
        self.wordNetIDs = wordNetIDs
        var byName: [String: [Int]] = [:]
        for (i, label) in labels.enumerated() { byName[Self.normalize(label), default: []].append(i) }
        classesByName = byName
        var byID: [String: [Int]] = [:]
        for (i, id) in (wordNetIDs ?? []).enumerated() { byID[id.lowercased(), default: []].append(i) }
        classesByWordNetID = byID
    }

    /// A matcher for a model with these labels; the ImageNet-1k label list gets its WordNet ids.
    public static func forModel(labels: [String]) -> LabelMatcher {
        LabelMatcher(labels: labels, wordNetIDs: labels == ModelZoo.imagenet1kLabels ? ModelZoo.imagenet1kWordNetIDs : nil)
    }

    /// Lower case without spaces, underscores and hyphens.
    public static func normalize(_ name: String) -> String {
        String(name.lowercased().filter { $0 != " " && $0 != "_" && $0 != "-" })
    }

    /// The classes one alternative names, in class order.
    public func classes(matching alternative: GroundTruth.Alternative) -> [Int] {
        var found = Set<Int>()
        if let id = alternative.wordNetID { found.formUnion(classesByWordNetID[id.lowercased()] ?? []) }
        let name = alternative.name.trimmingCharacters(in: .whitespaces)
        if !name.isEmpty {
            found.formUnion(classesByName[Self.normalize(name)] ?? [])
            if let colon = name.lastIndex(of: ":") {
                found.formUnion(classesByName[Self.normalize(String(name[name.index(after: colon)...]))] ?? [])
            }
        }
        return found.sorted()
    }

    /// The classes any alternative names.
    public func classes(matching truth: GroundTruth) -> [Int] {
        Array(Set(truth.alternatives.flatMap(classes(matching:)))).sorted()
    }

    /// Whether predicting class `predicted` is right for `truth`.
    public func verdict(predicted: Int, truth: GroundTruth?) -> Verdict {
        guard let truth, !truth.alternatives.isEmpty else { return .unlabelled }
        let matching = classes(matching: truth)
        if matching.isEmpty { return .notInClasses }
        return matching.contains(predicted) ? .correct : .wrong
    }
}

/// How a prediction compares with the ground truth. Only `correct` and `wrong` count for accuracy.
public enum Verdict: String, Codable, Sendable, CaseIterable {
    case correct, wrong
    /// The label names no class of this model, so the model cannot be right or wrong.
    case notInClasses = "not-in-classes"
    /// The photo has no label.
    case unlabelled

    /// `true`/`false`, or nil when the prediction cannot be judged.
    public var isCorrect: Bool? {
        switch self {
        case .correct: true
        case .wrong: false
        case .notInClasses, .unlabelled: nil
        }
    }

    /// Why `isCorrect` is nil.
    public var reason: String? {
        switch self {
        case .correct, .wrong: nil
        case .notInClasses: "not in this model's classes"
        case .unlabelled: "no label"
        }
    }
}
