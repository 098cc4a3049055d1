import Foundation

/// How well a map explains the model, the measures of the Grad-CAM++ paper and torchcam.
public enum CAMMetrics {
    /// The class probability before and after masking each image with its map.
    public struct ConfidenceChange {
        /// Softmax probability of each image's class on the input, then on `input × map`.
        public let before: [Float]
        public let after: [Float]

        /// Average Drop, in percent: mean of `max(0, before − after) / before`. Lower is
        /// better: the region the map keeps is enough for the model.
        public var averageDrop: Float {
            100 * zip(before, after).map { max(0, $0 - $1) / $0 }.reduce(0, +) / Float(before.count)
        }

        /// Increase in Confidence, in percent: the share of images whose probability rose
        /// when only the mapped region was kept. Higher is better.
        public var increaseInConfidence: Float {
            100 * Float(zip(before, after).filter { $1 > $0 }.count) / Float(before.count)
        }
    }

    /// Runs `model` on `input` (N, C, H, W) and on `input` multiplied by `maps` (N, H, W, one
    /// per image, broadcast over the colour channels), comparing the probability of `classes[i]`.
    public static func confidenceChange(model: Module, input: Tensor, maps: Tensor, classes: [Int]) -> ConfidenceChange {
        let (n, channels, height, width) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        precondition(maps.shape == [n, height, width], "one (H, W) map per image: maps \(maps.shape) for input \(input.shape)")
        precondition(classes.count == n, "one class per image")
        let plane = height * width
        let masked = Tensor(shape: input.shape) { out in
            for i in 0..<(n * channels) {
                let map = (i / channels) * plane
                for p in 0..<plane { out[i * plane + p] = input.scalars[i * plane + p] * maps.scalars[map + p] }
            }
        }
        func probabilities(_ x: Tensor) -> [Float] {
            let p = softmax(model(x), axis: 1)
            let c = p.shape[1]
            return classes.enumerated().map { p.scalars[$0.offset * c + $0.element] }
        }
        return ConfidenceChange(before: probabilities(input), after: probabilities(masked))
    }

    /// An axis-aligned box in pixel coordinates, bounds inclusive.
    public struct Box: Sendable, Equatable, Codable {
        public var x0, y0, x1, y1: Int
        public init(x0: Int, y0: Int, x1: Int, y1: Int) {
            (self.x0, self.y0, self.x1, self.y1) = (x0, y0, x1, y1)
        }
    }

    /// The pointing game (Zhang et al. 2016): a hit when the map's maximum lies in the object's
    /// box, grown by `tolerance` pixels on each side (the paper uses 15). On ties the first
    /// maximum in row-major order counts.
    public static func pointingGame(map: Tensor, box: Box, tolerance: Int = 0) -> Bool {
        precondition(map.rank == 2, "pointing game on one (H, W) map, got \(map.shape)")
        guard let peak = map.scalars.indices.max(by: { map.scalars[$0] < map.scalars[$1] }) else { return false }
        let (y, x) = (peak / map.shape[1], peak % map.shape[1])
        return (box.x0 - tolerance...box.x1 + tolerance).contains(x) && (box.y0 - tolerance...box.y1 + tolerance).contains(y)
    }
}
