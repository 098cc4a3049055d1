import Foundation

/// The faithfulness metrics that perturb the input according to a map and watch the target
/// score: pytorch-grad-cam's `CamMultImageConfidenceChange` (and its Drop / Increase in
/// Confidence), its ROAD (remove and debias), and torchcam's deletion / insertion AUCs. Scores
/// are the targets' raw logits, as with the reference's `ClassifierOutputTarget`; with `softmax`
/// they are the targets' probabilities, as with its `ClassifierOutputSoftmaxTarget`. The
/// perturbed inputs of one call run through the model in batches.
public struct PerturbationMetrics {
    public let model: Module
    /// Perturbed inputs per forward pass.
    public var batchSize: Int
    /// Called after each forward pass with (passes done, passes to do).
    public var progress: ((_ completed: Int, _ total: Int) -> Void)?

    public init(model: Module, batchSize: Int = 32, progress: ((_ completed: Int, _ total: Int) -> Void)? = nil) {
        precondition(batchSize >= 1, "batch size must be positive, got \(batchSize)")
        self.model = model
        self.batchSize = batchSize
        self.progress = progress
    }

    /// Score after − score before, with each image multiplied by its map (N, H, W).
    public func camMultImageConfidenceChange(input: Tensor, maps: Tensor, targets: [TargetScore], softmax: Bool = false) -> [Float] {
        let (channels, plane) = check(input, maps, targets)
        let perturbed = (0..<targets.count).map { (image: $0, scalars: Self.masked(input, by: maps, image: $0, channels: channels, plane: plane)) }
        return zip(scores(perturbed, like: input, targets: targets, softmax: softmax),
                   scores(of: input, targets: targets, softmax: softmax)).map { $0 - $1 }
    }

    /// How far the score falls when only the mapped region is kept: max(0, −change).
    public func dropInConfidence(input: Tensor, maps: Tensor, targets: [TargetScore], softmax: Bool = false) -> [Float] {
        camMultImageConfidenceChange(input: input, maps: maps, targets: targets, softmax: softmax).map { max(-$0, 0) }
    }

    /// 1 where the score rises when only the mapped region is kept, else 0.
    public func increaseInConfidence(input: Tensor, maps: Tensor, targets: [TargetScore], softmax: Bool = false) -> [Float] {
        camMultImageConfidenceChange(input: input, maps: maps, targets: targets, softmax: softmax).map { $0 > 0 ? 1 : 0 }
    }

    /// One image's confidence change and, when asked, its ROAD combined score.
    public struct Faithfulness: Equatable, Sendable {
        /// `camMultImageConfidenceChange`: score with only the mapped region kept − score.
        public var confidenceChange: Float
        /// `roadCombined`; nil when it was not asked for.
        public var roadCombined: Float?

        /// `dropInConfidence`.
        public var dropInConfidence: Float { max(-confidenceChange, 0) }
        /// `increaseInConfidence`, as a truth value.
        public var increaseInConfidence: Bool { confidenceChange > 0 }
    }

    /// The confidence change and, with `road`, ROAD combined of each image: the values of the
    /// functions above (within the rounding of other batch sizes), from the inputs, their
    /// masked copies and their ROAD copies (2 · 9 for the default percentiles) run together in
    /// batches of `batchSize` — with a batch size of at least their number, one pass for all.
    public func faithfulness(input: Tensor, maps: Tensor, targets: [TargetScore], road: Bool, softmax: Bool = false,
                             percentiles: [Double] = Self.roadPercentiles,
                             imputer: NoisyLinearImputer = NoisyLinearImputer()) -> [Faithfulness] {
        let (channels, plane) = check(input, maps, targets)
        let n = targets.count
        var inputs = Self.images(of: input)
        inputs += (0..<n).map { (image: $0, scalars: Self.masked(input, by: maps, image: $0, channels: channels, plane: plane)) }
        if road {
            for order in [ROADOrder.leastRelevantFirst, .mostRelevantFirst] {
                inputs += roadInputs(order, percentiles: percentiles, input: input, maps: maps, count: n, imputer: imputer)
            }
        }
        let s = scores(inputs, like: input, targets: targets, softmax: softmax)
        let k = percentiles.count
        return (0..<n).map { i in
            var result = Faithfulness(confidenceChange: s[n + i] - s[i], roadCombined: nil)
            if road {
                // LeRF copies from 2n on, image by image; then the MoRF copies.
                let lerf = (0..<k).map { s[2 * n + i * k + $0] - s[i] }.reduce(0, +) / Float(k)
                let morf = (0..<k).map { s[2 * n + (n + i) * k + $0] - s[i] }.reduce(0, +) / Float(k)
                result.roadCombined = (lerf - morf) / 2
            }
            return result
        }
    }

    /// Which pixels ROAD removes first.
    public enum ROADOrder: String, Sendable, CaseIterable {
        /// The most relevant (MoRF): a faithful map makes the score fall fast; lower is better.
        case mostRelevantFirst
        /// The least relevant (LeRF): a faithful map keeps the score; higher is better.
        case leastRelevantFirst
    }

    /// ROAD (Rong et al. 2022): score change, per image and percentile ([image][percentile]),
    /// when the pixels above the map's percentile (MoRF; below it of 1 − map for LeRF) are
    /// replaced by the noisy linear imputation of their neighbours.
    public func road(_ order: ROADOrder, percentiles: [Double], input: Tensor, maps: Tensor, targets: [TargetScore],
                     softmax: Bool = false, imputer: NoisyLinearImputer = NoisyLinearImputer()) -> [[Float]] {
        _ = check(input, maps, targets)
        let perturbed = roadInputs(order, percentiles: percentiles, input: input, maps: maps, count: targets.count, imputer: imputer)
        let before = scores(of: input, targets: targets, softmax: softmax)
        let after = scores(perturbed, like: input, targets: targets, softmax: softmax)
        return (0..<targets.count).map { i in percentiles.indices.map { after[i * percentiles.count + $0] - before[i] } }
    }

    /// The reference's `ROAD…Average`: the mean over percentiles, per image.
    public func roadAverage(_ order: ROADOrder, percentiles: [Double] = Self.roadPercentiles, input: Tensor, maps: Tensor,
                            targets: [TargetScore], softmax: Bool = false, imputer: NoisyLinearImputer = NoisyLinearImputer()) -> [Float] {
        road(order, percentiles: percentiles, input: input, maps: maps, targets: targets, softmax: softmax, imputer: imputer).map {
            $0.reduce(0, +) / Float($0.count)
        }
    }

    /// The reference's `ROADCombined`: (LeRF average − MoRF average) / 2; higher is more faithful.
    public func roadCombined(percentiles: [Double] = Self.roadPercentiles, input: Tensor, maps: Tensor, targets: [TargetScore],
                             softmax: Bool = false, imputer: NoisyLinearImputer = NoisyLinearImputer()) -> [Float] {
        let lerf = roadAverage(.leastRelevantFirst, percentiles: percentiles, input: input, maps: maps, targets: targets,
                               softmax: softmax, imputer: imputer)
        let morf = roadAverage(.mostRelevantFirst, percentiles: percentiles, input: input, maps: maps, targets: targets,
                               softmax: softmax, imputer: imputer)
        return zip(lerf, morf).map { ($0 - $1) / 2 }
    }

    /// ROAD's perturbed copies of the first `count` images, image by image, percentile by percentile.
    private func roadInputs(_ order: ROADOrder, percentiles: [Double], input: Tensor, maps: Tensor, count: Int,
                            imputer: NoisyLinearImputer) -> [(image: Int, scalars: [Float])] {
        let (channels, h, w) = (input.shape[1], input.shape[2], input.shape[3])
        let plane = h * w
        var perturbed: [(image: Int, scalars: [Float])] = []
        for i in 0..<count {
            let map = Array(maps.scalars[i * plane ..< (i + 1) * plane])
            let ranked = order == .mostRelevantFirst ? map : map.map { 1 - $0 }
            let image = Array(input.scalars[i * channels * plane ..< (i + 1) * channels * plane])
            for p in percentiles {
                let threshold = Self.percentile(ranked, p)
                perturbed.append((i, imputer.impute(image, channels: channels, height: h, width: w, keep: ranked.map { $0 < threshold })))
            }
        }
        return perturbed
    }

    /// Image `i` of `input` multiplied by its map, broadcast over the channels.
    private static func masked(_ input: Tensor, by maps: Tensor, image i: Int, channels: Int, plane: Int) -> [Float] {
        (0..<(channels * plane)).map { input.scalars[i * channels * plane + $0] * maps.scalars[i * plane + $0 % plane] }
    }

    public static let roadPercentiles: [Double] = [10, 20, 30, 40, 50, 60, 70, 80, 90]

    /// torchcam's `DeletionInsertionMetric` (Petsiuk et al. 2018), per image: pixels in order of
    /// decreasing map value (ties by position) set to 0 (deletion) or restored onto zeros
    /// (insertion) in at most `steps` equal steps; the areas under the score curves over the
    /// fraction changed. Deletion: lower is better; insertion: higher. `softmax` scores
    /// probabilities instead of logits.
    public func deletionInsertion(input: Tensor, maps: Tensor, classes: [Int], steps: Int = 20,
                                  softmax: Bool = false) -> [(deletion: Float, insertion: Float)] {
        precondition(steps >= 1, "steps must be positive, got \(steps)")
        let targets = classes.map { TargetScore($0) }
        let (channels, plane) = check(input, maps, targets)
        let step = (plane + steps - 1) / steps
        let counts = Array(stride(from: 0, to: plane, by: step)) + [plane]
        var perturbed: [(Int, [Float])] = []
        for i in 0..<targets.count {
            let map = maps.scalars[i * plane ..< (i + 1) * plane]
            let base = map.startIndex
            let order = map.indices.sorted { map[$0] > map[$1] || (map[$0] == map[$1] && $0 < $1) }.map { $0 - base }
            var rank = [Int](repeating: 0, count: plane)
            for (r, p) in order.enumerated() { rank[p] = r }
            let image = input.scalars[i * channels * plane ..< (i + 1) * channels * plane]
            func keeping(_ keep: (Int) -> Bool) -> [Float] {
                (0..<(channels * plane)).map { keep(rank[$0 % plane]) ? image[image.startIndex + $0] : 0 }
            }
            perturbed.append((i, keeping { _ in false }))
            for count in counts.dropFirst().dropLast() {
                perturbed.append((i, keeping { $0 >= count }))  // deletion
                perturbed.append((i, keeping { $0 < count }))   // insertion
            }
        }
        let original = scores(of: input, targets: targets, softmax: softmax)
        let after = scores(perturbed, like: input, targets: targets, softmax: softmax)
        let perImage = 1 + 2 * (counts.count - 2)
        let fractions = counts.map { Double(Float(Double($0) / Double(plane))) }
        func area(_ y: [Float]) -> Float {
            var sum = 0.0
            for k in 1..<y.count {
                let width: Double = fractions[k] - fractions[k - 1]
                sum += width * Double(y[k] + y[k - 1]) / 2
            }
            return Float(sum)
        }
        return (0..<targets.count).map { i in
            let s = Array(after[i * perImage ..< (i + 1) * perImage])
            let interior = (0..<(counts.count - 2))
            let deletion = [original[i]] + interior.map { s[1 + 2 * $0] } + [s[0]]
            let insertion = [s[0]] + interior.map { s[2 + 2 * $0] } + [original[i]]
            return (area(deletion), area(insertion))
        }
    }

    /// numpy's `percentile` (linear interpolation) of float32 values.
    static func percentile(_ values: [Float], _ p: Double) -> Float {
        let sorted = values.sorted()
        let position = Double(sorted.count - 1) * p / 100
        let low = Int(position.rounded(.down)), high = min(low + 1, sorted.count - 1)
        let t = position - Double(low)
        let (a, b) = (Double(sorted[low]), Double(sorted[high]))
        return Float(t < 0.5 ? a + (b - a) * t : b - (b - a) * (1 - t))
    }

    private func check(_ input: Tensor, _ maps: Tensor, _ targets: [TargetScore]) -> (channels: Int, plane: Int) {
        precondition(input.rank == 4 && maps.shape == [input.shape[0], input.shape[2], input.shape[3]],
                     "one (H, W) map per image: maps \(maps.shape) for input \(input.shape)")
        precondition(targets.count == input.shape[0], "\(targets.count) targets for \(input.shape[0]) images")
        return (input.shape[1], input.shape[2] * input.shape[3])
    }

    private func scores(of input: Tensor, targets: [TargetScore], softmax: Bool = false) -> [Float] {
        scores(Self.images(of: input), like: input, targets: targets, softmax: softmax)
    }

    /// Each image of a batch, unchanged.
    private static func images(of input: Tensor) -> [(image: Int, scalars: [Float])] {
        let size = input.count / input.shape[0]
        return (0..<input.shape[0]).map { ($0, Array(input.scalars[$0 * size ..< ($0 + 1) * size])) }
    }

    /// The target score of image `image` on each perturbed copy, in batches of `batchSize`.
    private func scores(_ inputs: [(image: Int, scalars: [Float])], like input: Tensor, targets: [TargetScore],
                        softmax useSoftmax: Bool = false) -> [Float] {
        let batches = (inputs.count + batchSize - 1) / batchSize
        var out: [Float] = []
        for (b, start) in stride(from: 0, to: inputs.count, by: batchSize).enumerated() {
            let chunk = inputs[start ..< min(start + batchSize, inputs.count)]
            let batch = Tensor(shape: [chunk.count] + input.shape.dropFirst(), scalars: Array(chunk.map(\.scalars).joined()))
            var logits = model.inferenceOutput(batch).detached()
            if useSoftmax { logits = CAMKit.softmax(logits, axis: 1).detached() }
            let classes = logits.shape[1]
            for (k, item) in chunk.enumerated() {
                out.append(targets[item.image].score(logits.scalars[k * classes ..< (k + 1) * classes]))
            }
            progress?(b + 1, batches)
        }
        return out
    }
}
