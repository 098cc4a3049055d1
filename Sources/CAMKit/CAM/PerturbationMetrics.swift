import Foundation

/// The faithfulness metrics that perturb the input according to a map and watch the target
/// score: pytorch-grad-cam's `CamMultImageConfidenceChange` (and its Drop / Increase in
/// Confidence), its ROAD (remove and debias), and torchcam's deletion / insertion AUCs. Scores
/// are the targets' raw logits, as with the reference's `ClassifierOutputTarget`, except where a
/// metric says otherwise. The perturbed inputs of one call run through the model in batches.
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
    public func camMultImageConfidenceChange(input: Tensor, maps: Tensor, targets: [TargetScore]) -> [Float] {
        let (channels, plane) = check(input, maps, targets)
        let perturbed = (0..<targets.count).map { i in
            (i, (0..<(channels * plane)).map { input.scalars[i * channels * plane + $0] * maps.scalars[i * plane + $0 % plane] })
        }
        return zip(scores(perturbed, like: input, targets: targets), scores(of: input, targets: targets)).map { $0 - $1 }
    }

    /// How far the score falls when only the mapped region is kept: max(0, −change).
    public func dropInConfidence(input: Tensor, maps: Tensor, targets: [TargetScore]) -> [Float] {
        camMultImageConfidenceChange(input: input, maps: maps, targets: targets).map { max(-$0, 0) }
    }

    /// 1 where the score rises when only the mapped region is kept, else 0.
    public func increaseInConfidence(input: Tensor, maps: Tensor, targets: [TargetScore]) -> [Float] {
        camMultImageConfidenceChange(input: input, maps: maps, targets: targets).map { $0 > 0 ? 1 : 0 }
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
                     imputer: NoisyLinearImputer = NoisyLinearImputer()) -> [[Float]] {
        let (channels, plane) = check(input, maps, targets)
        let (h, w) = (input.shape[2], input.shape[3])
        var perturbed: [(Int, [Float])] = []
        for i in 0..<targets.count {
            let map = Array(maps.scalars[i * plane ..< (i + 1) * plane])
            let ranked = order == .mostRelevantFirst ? map : map.map { 1 - $0 }
            let image = Array(input.scalars[i * channels * plane ..< (i + 1) * channels * plane])
            for p in percentiles {
                let threshold = Self.percentile(ranked, p)
                perturbed.append((i, imputer.impute(image, channels: channels, height: h, width: w, keep: ranked.map { $0 < threshold })))
            }
        }
        let before = scores(of: input, targets: targets)
        let after = scores(perturbed, like: input, targets: targets)
        return (0..<targets.count).map { i in percentiles.indices.map { after[i * percentiles.count + $0] - before[i] } }
    }

    /// The reference's `ROAD…Average`: the mean over percentiles, per image.
    public func roadAverage(_ order: ROADOrder, percentiles: [Double] = Self.roadPercentiles, input: Tensor, maps: Tensor,
                            targets: [TargetScore], imputer: NoisyLinearImputer = NoisyLinearImputer()) -> [Float] {
        road(order, percentiles: percentiles, input: input, maps: maps, targets: targets, imputer: imputer).map {
            $0.reduce(0, +) / Float($0.count)
        }
    }

    /// The reference's `ROADCombined`: (LeRF average − MoRF average) / 2; higher is more faithful.
    public func roadCombined(percentiles: [Double] = Self.roadPercentiles, input: Tensor, maps: Tensor, targets: [TargetScore],
                             imputer: NoisyLinearImputer = NoisyLinearImputer()) -> [Float] {
        let lerf = roadAverage(.leastRelevantFirst, percentiles: percentiles, input: input, maps: maps, targets: targets, imputer: imputer)
        let morf = roadAverage(.mostRelevantFirst, percentiles: percentiles, input: input, maps: maps, targets: targets, imputer: imputer)
        return zip(lerf, morf).map { ($0 - $1) / 2 }
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
        let size = input.count / input.shape[0]
        return scores((0..<targets.count).map { ($0, Array(input.scalars[$0 * size ..< ($0 + 1) * size])) }, like: input,
                      targets: targets, softmax: softmax)
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
