import Foundation

/// Score-CAM (Wang et al. 2020): no gradients; each channel, upsampled to the input size and
/// scaled to [0, 1], masks the input, and the channel's weight is the softmax (over channels)
/// of the target score of that masked input. One forward pass per channel, in batches — slow,
/// hence the progress reports.
public struct ScoreCAM: ChannelWeightingMethod {
    public let name = "scorecam"
    public let usesGradients = false
    /// Masked inputs per forward pass (the reference's `BATCH_SIZE = 16`).
    public var batchSize: Int

    public init(batchSize: Int = 16) {
        precondition(batchSize >= 1, "batch size must be positive")
        self.batchSize = batchSize
    }

    public func channelWeights(_ layer: LayerState, context: CAMContext) throws -> [Float] {
        let input = context.input
        let (inputChannels, height, width) = (input.shape[1], input.shape[2], input.shape[3])
        let imageSize = inputChannels * height * width
        let batches = (layer.channels + batchSize - 1) / batchSize
        var weights: [Float] = []
        for image in 0..<layer.batch {
            var scores: [Float] = []
            for (b, start) in stride(from: 0, to: layer.channels, by: batchSize).enumerated() {
                let channels = start ..< min(start + batchSize, layer.channels)
                let masked = Tensor(shape: [channels.count, inputChannels, height, width]) { out in
                    for (k, channel) in channels.enumerated() {
                        let mask = scaledMask(layer, image: image, channel: channel, height: height, width: width)
                        for ic in 0..<inputChannels {
                            let source = image * imageSize + ic * height * width
                            let target = k * imageSize + ic * height * width
                            for i in 0..<(height * width) { out[target + i] = input.scalars[source + i] * mask[i] }
                        }
                    }
                }
                scores += context.scores(of: masked, forImage: image)
                context.report(layer: layer.name, completed: image * batches + b + 1, total: layer.batch * batches)
            }
            weights += softmax(scores)
        }
        return weights
    }

    /// One channel upsampled as `nn.UpsamplingBilinear2d` does (bilinear, align_corners=True),
    /// then min–max scaled with the reference's 1e-8.
    private func scaledMask(_ layer: LayerState, image: Int, channel: Int, height: Int, width: Int) -> [Float] {
        let (h, w) = (layer.height, layer.width)
        let offset = (image * layer.channels + channel) * h * w
        let a = layer.activations.scalars
        let rows = alignedCornerTaps(source: h, destination: height)
        let columns = alignedCornerTaps(source: w, destination: width)
        var up = [Float](repeating: 0, count: height * width)
        for (y, r) in rows.enumerated() {
            for (x, c) in columns.enumerated() {
                let top = c.weight0 * a[offset + r.index0 * w + c.index0] + c.weight1 * a[offset + r.index0 * w + c.index1]
                let bottom = c.weight0 * a[offset + r.index1 * w + c.index0] + c.weight1 * a[offset + r.index1 * w + c.index1]
                up[y * width + x] = r.weight0 * top + r.weight1 * bottom
            }
        }
        let low = up.min() ?? 0, high = up.max() ?? 0
        let denominator = high - low + 1e-8
        return up.map { ($0 - low) / denominator }
    }

    /// Source indices and weights of PyTorch's align_corners=True bilinear upsampling.
    private func alignedCornerTaps(source: Int, destination: Int) -> [(index0: Int, index1: Int, weight0: Float, weight1: Float)] {
        let scale: Float = destination > 1 ? Float(source - 1) / Float(destination - 1) : 0
        return (0..<destination).map { d in
            let real = scale * Float(d)
            let i0 = min(Int(real), source - 1)
            let lambda = min(max(real - Float(i0), 0), 1)
            return (i0, i0 + (i0 < source - 1 ? 1 : 0), 1 - lambda, lambda)
        }
    }

    private func softmax(_ x: [Float]) -> [Float] {
        let top = x.max() ?? 0
        let e = x.map { Foundation.exp($0 - top) }
        let sum = e.reduce(0, +)
        return e.map { $0 / sum }
    }
}
