/// What a photo shows, as a labels file or `--label` says: one or more alternatives
/// (`golden_retriever|non-dog:cat` for a photo of a puppy and a kitten), each a name and
/// optionally its WordNet id. A prediction is right when it matches any alternative.
public struct GroundTruth: Equatable, Sendable, Codable {
    public struct Alternative: Equatable, Sendable, Codable {
        public var name: String
        /// WordNet id such as `n02106166`, when known.
        public var wordNetID: String?
        public init(name: String, wordNetID: String? = nil) {
            self.name = name
            self.wordNetID = wordNetID
        }
    }

    public var alternatives: [Alternative]
    /// Where the object is, in the photo's pixels (bounds inclusive), when the labels say: what
    /// the pointing game scores the map against.
    public var box: CAMMetrics.Box?

    public init(alternatives: [Alternative], box: CAMMetrics.Box? = nil) {
        self.alternatives = alternatives
        self.box = box
    }

    /// Parses a breed field (`a|b`) and the matching WordNet id field (`id_a|id_b`, by position;
    /// empty parts mean "no id").
    public init(breed: String, wordNetIDs: String? = nil, box: CAMMetrics.Box? = nil) {
        self.box = box
        let names = breed.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        let ids = (wordNetIDs ?? "").split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        alternatives = names.enumerated().compactMap { i, name in
            let id = i < ids.count && !ids[i].isEmpty ? ids[i] : nil
            return name.isEmpty && id == nil ? nil : Alternative(name: name, wordNetID: id)
        }
    }

    /// The names as written, `a|b`.
    public var text: String { alternatives.map(\.name).joined(separator: "|") }
}
