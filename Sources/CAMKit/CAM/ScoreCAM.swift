import Foundation

/// Score-CAM (Wang et al. 2020): no gradients; each channel, upsampled to the input size and
/// scaled to [0, 1], masks the input, and the channel's weight is the softmax (over channels)
/// of the target score of that masked input. One forward pass per channel, in batches — slow,
/// hence the progress reports — except that all-zero masks share one.
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
        var weights: [Float] = []
        var completed = 0
        let plan = (0..<layer.batch).map { maskedInputs(layer, image: $0, height: height, width: width) }
        let total = plan.reduce(0) { $0 + ($1.count + batchSize - 1) / batchSize }
        for (image, inputs) in plan.enumerated() {
            var scores: [Float] = []
            for start in stride(from: 0, to: inputs.count, by: batchSize) {
                let chunk = inputs[start ..< min(start + batchSize, inputs.count)]
                let masked = Tensor(shape: [chunk.count, inputChannels, height, width]) { out in
                    let (source, target) = (input.scalars, out.baseAddress!)
                    parallelChunks(chunk.count) { items in
                        for k in items {
                            guard let channel = chunk[chunk.startIndex + k] else {
                                (target + k * imageSize).initialize(repeating: 0, count: imageSize)
                                continue
                            }
                            let mask = scaledMask(layer, image: image, channel: channel, height: height, width: width)
                            for ic in 0..<inputChannels {
                                let from = image * imageSize + ic * height * width
                                let to = target + k * imageSize + ic * height * width
                                for i in 0..<(height * width) { to[i] = source[from + i] * mask[i] }
                            }
                        }
                    }
                }
                scores += context.scores(of: masked, forImage: image)
                completed += 1
                context.report(layer: layer.name, completed: completed, total: total)
            }
            let zeroScore = inputs.contains(nil) ? scores.removeFirst() : 0
            var channelScores = [Float](repeating: zeroScore, count: layer.channels)
            for (channel, score) in zip(inputs.compactMap { $0 }, scores) { channelScores[channel] = score }
            weights += softmax(channelScores)
        }
        return weights
    }

    /// The masked inputs image `image` needs, as channels; nil, first and only once, is the
    /// all-zero image, standing for every channel whose mask is all zero. Dead channels (zero
    /// after a ReLU: half of EfficientNet-Lite0's head on a photo) scale the input to zeros, so
    /// their score is that of the zero image, computed once; the reference runs each again.
    private func maskedInputs(_ layer: LayerState, image: Int, height: Int, width: Int) -> [Int?] {
        let plane = layer.height * layer.width
        var anyZero = false, masked: [Int] = []
        layer.activations.withScalars { a in
            for channel in 0..<layer.channels {
                let p = UnsafeBufferPointer(start: a + (image * layer.channels + channel) * plane, count: plane)
                // A plane that varies gives a mask that varies; for a constant one the mask decides.
                let constant = p.allSatisfy { $0 == p[0] }
                let isZero = constant && scaledMask(layer, image: image, channel: channel, height: height, width: width)
                    .allSatisfy { $0 == 0 }
                if isZero { anyZero = true } else { masked.append(channel) }
            }
        }
        return (anyZero ? [nil] : []) + masked
    }

    /// One channel upsampled as `nn.UpsamplingBilinear2d` does (bilinear, align_corners=True),
    /// then min–max scaled with the reference's 1e-8.
    func scaledMask(_ layer: LayerState, image: Int, channel: Int, height: Int, width: Int) -> [Float] {
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
