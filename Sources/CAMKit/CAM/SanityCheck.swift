import Foundation

/// The sanity checks of Adebayo et al. 2018: does a method's map depend on the model's weights
/// and on the class at all? A map that stays the same when the weights are replaced by noise
/// (an edge detector, for one) explains the image, not the model.
///
/// - Model-parameter randomisation: the weights of the model's units (its parameter-holding
///   modules grouped by the first `unitDepth` parts of their names) are replaced by Gaussian
///   noise of each tensor's own mean and standard deviation (for a constant tensor, such as
///   fresh norm scales, of standard deviation max(|mean|, 1), so that it changes too), cascading from the output towards the input and each unit on its own.
///   BatchNorm running statistics are buffers and are left alone, which keeps the variances
///   positive and the maps free of NaN. The model is restored afterwards.
/// - Random logit: the map of the top class against that of a random other class.
///
/// Each compares the maps at input size by Spearman rank correlation and SSIM. Every random
/// draw comes from `seed`. The method is made afresh for every map, so a seeded baseline such
/// as RandomCAM draws the same weights each time.
public struct SanityCheck {
    public let makeMethod: () -> CAMMethod
    public let layer: String
    public var seed: UInt32
    public var unitDepth: Int
    /// How many cascade steps to take (nil: down to the first unit), and whether to randomise
    /// each unit on its own too.
    public var cascadeSteps: Int?
    public var independent: Bool

    public init(method makeMethod: @escaping () -> CAMMethod, layer: String, seed: UInt32 = 0, unitDepth: Int = 2,
                cascadeSteps: Int? = nil, independent: Bool = true) {
        self.makeMethod = makeMethod
        self.layer = layer
        self.seed = seed
        self.unitDepth = unitDepth
        self.cascadeSteps = cascadeSteps
        self.independent = independent
    }

    /// One comparison with the original map.
    public struct Similarity: Sendable, Codable, Equatable {
        /// The unit randomised (cumulatively, for the cascade), or the class compared.
        public let what: String
        public let spearman: Float
        public let ssim: Float
    }

    public struct Report: Sendable, Codable {
        public let targetClass: Int
        /// Units after the target layer: randomising them must change a gradient-based map.
        public let headUnits: [String]
        public let cascading: [Similarity]
        public let independent: [Similarity]
        public let randomLogit: Similarity

        /// Rank correlation once every unit after the target layer is randomised (1 if none).
        public var headSpearman: Float {
            cascading.prefix(headUnits.count).last?.spearman ?? 1
        }
        /// Rank correlation at the end of the cascade.
        public var cascadeSpearman: Float { cascading.last?.spearman ?? 1 }

        public var dependsOnWeights: Verdict { Verdict.weights(head: headSpearman, cascade: cascadeSpearman) }
        public var dependsOnClass: Verdict { Verdict.classes(randomLogit.spearman) }
    }

    /// A plain-language answer, from rank correlations with the original map. The thresholds
    /// are ours (the paper compares by eye): ρ below 0.8 counts as a changed map.
    public enum Verdict: String, Sendable, Codable {
        case yes, weakly, no

        /// Yes when randomising what follows the layer already changes the map; weakly when
        /// only randomising further down does (the map follows the activations, not the
        /// score); no when it survives the whole cascade.
        public static func weights(head: Float, cascade: Float) -> Verdict {
            head < 0.8 ? .yes : cascade < 0.8 ? .weakly : .no
        }

        /// Yes when another class's map has changed, weakly when its ρ is below 0.95, else no.
        public static func classes(_ spearman: Float) -> Verdict {
            spearman < 0.8 ? .yes : spearman < 0.95 ? .weakly : .no
        }
    }

    /// Runs the checks on one image (1, 3, H, W), for its top class.
    public func run(model: Module, input: Tensor) throws -> Report {
        precondition(input.rank == 4 && input.shape[0] == 1, "one image (1, 3, H, W), got \(input.shape)")
        let logits = model(input).detached().scalars
        let top = logits.indices.max { logits[$0] < logits[$1] }!
        let original = try map(model, input, class: top)
        func compare(_ what: String, _ a: [Float], _ b: [Float]) -> Similarity {
            Similarity(what: what, spearman: MapSimilarity.spearman(a, b),
                       ssim: MapSimilarity.ssim(a, b, height: input.shape[2], width: input.shape[3]))
        }
        let units = Self.units(of: model, depth: unitDepth)
        let names = model.namedModules().map(\.name)
        let layerIndex = names.firstIndex(of: layer) ?? names.count
        let head = units.filter { unit in
            !layer.hasPrefix(unit + ".") && unit != layer && (names.firstIndex { $0 == unit || $0.hasPrefix(unit + ".") } ?? 0) > layerIndex
        }
        let parameters = model.namedParameters().filter { !$0.parameter.isBuffer }
        let saved = parameters.map(\.parameter.value)
        defer { for (p, value) in zip(parameters, saved) { p.parameter.value = value } }
        let generator = MersenneTwister(seed: seed)
        func randomise(_ unit: String) {
            for (name, parameter) in parameters where name.hasPrefix(unit + ".") {
                let v = parameter.value.scalars
                let mean = v.reduce(0.0) { $0 + Double($1) } / Double(max(v.count, 1))
                let spread = (v.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(max(v.count, 1))).squareRoot()
                let std = spread > 0 ? spread : max(abs(mean), 1)
                parameter.value = Tensor(shape: parameter.value.shape, scalars: v.map { _ in Float(mean + std * generator.nextGaussian()) })
            }
        }
        func restore() { for (p, value) in zip(parameters, saved) { p.parameter.value = value } }

        // Top-down: the head first, then deeper and deeper.
        let topDown = head + units.reversed().filter { !head.contains($0) }
        var cascading: [Similarity] = []
        for unit in topDown.prefix(cascadeSteps ?? topDown.count) {
            randomise(unit)
            cascading.append(compare(unit, original, try map(model, input, class: top)))
        }
        restore()
        var independent: [Similarity] = []
        if self.independent {
            for unit in topDown {
                randomise(unit)
                independent.append(compare(unit, original, try map(model, input, class: top)))
                restore()
            }
        }
        let others = logits.indices.filter { $0 != top }
        let other = others.isEmpty ? top : others[Int(generator.nextUInt32()) % others.count]
        let randomLogit = compare("class \(other)", original, try map(model, input, class: other))
        return Report(targetClass: top, headUnits: head, cascading: cascading, independent: independent, randomLogit: randomLogit)
    }

    private func map(_ model: Module, _ input: Tensor, class c: Int) throws -> [Float] {
        let result = try CAMExtractor(module: model, method: makeMethod(), layers: [layer]).explain(input, target: .classIndex(c))
        return result.maps().scalars.map { $0.isNaN ? 0 : $0 }
    }


    /// Parameter-holding modules grouped by the first `depth` parts of their names, in model order.
    static func units(of model: Module, depth: Int) -> [String] {
        var seen = Set<String>(), units: [String] = []
        for (name, parameter) in model.namedParameters() where !parameter.isBuffer {
            let parts = name.split(separator: ".").dropLast()
            guard !parts.isEmpty else { continue }
            let unit = parts.prefix(depth).joined(separator: ".")
            if seen.insert(unit).inserted { units.append(unit) }
        }
        return units
    }
}

/// How alike two maps are.
public enum MapSimilarity {
    /// Spearman's ρ: Pearson correlation of the ranks, ties sharing their mean rank; 1 for two
    /// constant maps (neither says anything the other does not).
    public static func spearman(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count, "maps of \(a.count) and \(b.count) values")
        let (ra, rb) = (ranks(a), ranks(b))
        let (ma, mb) = (ra.reduce(0, +) / Double(ra.count), rb.reduce(0, +) / Double(rb.count))
        var (sab, saa, sbb) = (0.0, 0.0, 0.0)
        for i in ra.indices {
            sab += (ra[i] - ma) * (rb[i] - mb)
            saa += (ra[i] - ma) * (ra[i] - ma)
            sbb += (rb[i] - mb) * (rb[i] - mb)
        }
        if saa == 0 && sbb == 0 { return 1 }
        if saa == 0 || sbb == 0 { return 0 }
        return Float(sab / (saa * sbb).squareRoot())
    }

    private static func ranks(_ x: [Float]) -> [Double] {
        let order = x.indices.sorted { x[$0] < x[$1] }
        var ranks = [Double](repeating: 0, count: x.count)
        var start = 0
        while start < order.count {
            var end = start
            while end + 1 < order.count && x[order[end + 1]] == x[order[start]] { end += 1 }
            for k in start...end { ranks[order[k]] = Double(start + end) / 2 }
            start = end + 1
        }
        return ranks
    }

    /// SSIM of two (H, W) maps in [0, 1], as scikit-image's `structural_similarity` with
    /// `data_range=1`: 7×7 uniform windows, sample covariances, the mean over windows inside.
    public static func ssim(_ a: [Float], _ b: [Float], height: Int, width: Int) -> Float {
        let r = 3, n = 49.0
        guard height > 2 * r && width > 2 * r else { return spearman(a, b) }
        let (c1, c2) = (pow(0.01, 2.0), pow(0.03, 2.0))
        let norm = n / (n - 1)
        var total = 0.0
        for y in r..<(height - r) {
            for x in r..<(width - r) {
                var (sa, sb, saa, sbb, sab) = (0.0, 0.0, 0.0, 0.0, 0.0)
                for dy in -r...r {
                    for dx in -r...r {
                        let (u, v) = (Double(a[(y + dy) * width + x + dx]), Double(b[(y + dy) * width + x + dx]))
                        sa += u; sb += v; saa += u * u; sbb += v * v; sab += u * v
                    }
                }
                let (ma, mb) = (sa / n, sb / n)
                let va = norm * (saa / n - ma * ma), vb = norm * (sbb / n - mb * mb), cov = norm * (sab / n - ma * mb)
                total += ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2))
            }
        }
        return Float(total / Double((height - 2 * r) * (width - 2 * r)))
    }
}
