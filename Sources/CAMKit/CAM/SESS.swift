import Foundation

/// SESS, Saliency Enhancing with Scaling and Sliding (Tursun et al. 2022): the image resized to
/// several scales, a sliding window over each, the base method's map of every window weighted
/// by the window's softmax score for the target, pasted back and averaged where positive, then
/// blurred — robust to object size, to several instances and to distractors. As
/// pytorch-grad-cam's `SESS` with its defaults: 12 scales from the shorter side, growing by
/// 2/7 of it; non-overlapping windows of the shorter side (shifted back at the borders); no
/// pre-filtering; mean fusion over values above 0; an 11×11 Gaussian blur of σ 5. Slow: one
/// base map per window (about 130 for a square input), in batches.
public struct SESS: CAMMethod {
    public let name = "sess"
    /// The method run on every window (Grad-CAM by default).
    public let base: CAMMethod
    /// Windows per forward pass (the reference's 32).
    public var batchSize: Int
    public let usesGradients = false

    public init(base: CAMMethod = GradCAM(), batchSize: Int = 32) {
        precondition(batchSize >= 1, "batch size must be positive, got \(batchSize)")
        self.base = base
        self.batchSize = batchSize
    }

    public func rawMaps(_ layer: LayerState, context: CAMContext) throws -> Tensor {
        preconditionFailure("SESS makes its maps from its windows (finalMaps)")
    }

    public func finalMaps(_ layers: [LayerState], context: CAMContext) throws -> Tensor? {
        let input = context.input
        let (n, channels, height, width) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let window = min(height, width)
        let step = Int((Double(window) * 2 / 7).rounded(.toNearestOrEven))
        if let graph = context.model as? GraphModel, graph.runner.specialisation(for: [1, channels, window, window]) == nil {
            throw CAMError.inputSizeFixed(method: name, model: graph.inputShape, needed: [1, channels, window, window])
        }
        let extractor = try CAMExtractor(module: context.model, method: base, layers: layers.map(\.name))
        var maps: [Float] = []
        for image in 0..<n {
            let target = context.targets[image]
            let single = Array(input.scalars[image * channels * height * width ..< (image + 1) * channels * height * width])
            var patches: [(pixels: [Float], x: Int, y: Int, scaledWidth: Int, scaledHeight: Int)] = []
            for scale in (0..<12).map({ window + step * $0 }) {
                let (sh, sw) = height <= width ? (scale, Int(Double(scale) * Double(width) / Double(height))) : (Int(Double(scale) * Double(height) / Double(width)), scale)
                let scaled = Self.upsampled(single, channels: channels, height: height, width: width, toHeight: sh, toWidth: sw)
                for y in Self.windowStarts(sh, window) {
                    for x in Self.windowStarts(sw, window) {
                        var pixels = [Float](repeating: 0, count: channels * window * window)
                        for c in 0..<channels {
                            for r in 0..<window {
                                for q in 0..<window { pixels[(c * window + r) * window + q] = scaled[(c * sh + y + r) * sw + x + q] }
                            }
                        }
                        patches.append((pixels, x, y, sw, sh))
                    }
                }
            }
            let patchShape = [channels, window, window]
            var scores: [Float] = []
            for start in stride(from: 0, to: patches.count, by: batchSize) {
                let chunk = patches[start ..< min(start + batchSize, patches.count)]
                let batch = Tensor(shape: [chunk.count] + patchShape, scalars: Array(chunk.map(\.pixels).joined()))
                let p = softmax(context.model.inferenceOutput(batch), axis: 1).detached()
                let classes = p.shape[1]
                scores += (0..<chunk.count).map { max(target.score(p.scalars[$0 * classes ..< ($0 + 1) * classes]), 0) }
            }
            let order = scores.indices.sorted { scores[$0] < scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
            let top = scores[order.last!]
            var total = [Float](repeating: 0, count: height * width), counts = total
            for start in stride(from: 0, to: order.count, by: batchSize) {
                let indices = Array(order[start ..< min(start + batchSize, order.count)])
                let batch = Tensor(shape: [indices.count] + patchShape, scalars: Array(indices.map { patches[$0].pixels }.joined()))
                let cams = try extractor.explain(batch, targets: Array(repeating: Self.camTarget(target), count: indices.count)).maps()
                for (k, index) in indices.enumerated() {
                    let weight = top > 0 ? scores[index] / top : 1
                    let patch = patches[index]
                    var canvas = [Float](repeating: 0, count: patch.scaledHeight * patch.scaledWidth)
                    for r in 0..<window {
                        for q in 0..<window {
                            canvas[(patch.y + r) * patch.scaledWidth + patch.x + q] = cams.scalars[(k * window + r) * window + q] * weight
                        }
                    }
                    let pasted = MapPostprocessing.resizeBilinear(canvas, height: patch.scaledHeight, width: patch.scaledWidth,
                                                                  toHeight: height, toWidth: width)
                    for i in pasted.indices where pasted[i] > 0 { total[i] += pasted[i]; counts[i] += 1 }
                }
                context.report(layer: layers.first?.name ?? "", completed: image * order.count + indices.count + start, total: n * order.count)
            }
            let fused = zip(total, counts).map { $1 > 0 ? $0 / $1 : 0 }
            maps += Self.gaussianBlur(fused, height: height, width: width)
        }
        let plane = height * width
        return Tensor(shape: [n, height, width], scalars: (0..<n).flatMap { MapPostprocessing.minMaxScaled(Array(maps[$0 * plane ..< ($0 + 1) * plane])) })
    }

    /// The window's target: the class (or contrast) of the image's.
    private static func camTarget(_ score: TargetScore) -> CAMTarget {
        score.versus.map { .contrast(score.classIndex, $0) } ?? .classIndex(score.classIndex)
    }

    /// The reference's `window_starts`: every `window` pixels, the last one moved back inside.
    static func windowStarts(_ length: Int, _ window: Int) -> [Int] {
        var starts: [Int] = []
        for start in stride(from: 0, to: length, by: window) {
            if start + window >= length { starts.append(max(length - window, 0)); break }
            starts.append(start)
        }
        return starts
    }

    /// torch's bilinear interpolation (align_corners=False), which torchvision's antialiased
    /// `resize` equals when enlarging, as SESS always does.
    private static func upsampled(_ x: [Float], channels: Int, height: Int, width: Int, toHeight: Int, toWidth: Int) -> [Float] {
        func taps(_ source: Int, _ destination: Int) -> [(Int, Int, Float)] {
            let scale = Float(source) / Float(destination)
            return (0..<destination).map { d in
                let real = max(scale * (Float(d) + 0.5) - 0.5, 0)
                let i0 = min(Int(real), source - 1)
                return (i0, min(i0 + 1, source - 1), real - Float(i0))
            }
        }
        let (rows, columns) = (taps(height, toHeight), taps(width, toWidth))
        var out = [Float](repeating: 0, count: channels * toHeight * toWidth)
        for c in 0..<channels {
            for (y, r) in rows.enumerated() {
                for (q, col) in columns.enumerated() {
                    let at = { (row: Int, column: Int) in x[(c * height + row) * width + column] }
                    let top = (1 - col.2) * at(r.0, col.0) + col.2 * at(r.0, col.1)
                    let bottom = (1 - col.2) * at(r.1, col.0) + col.2 * at(r.1, col.1)
                    out[(c * toHeight + y) * toWidth + q] = (1 - r.2) * top + r.2 * bottom
                }
            }
        }
        return out
    }

    /// `cv2.GaussianBlur(map, (11, 11), 5)`: separable, borders reflected without the edge pixel.
    private static func gaussianBlur(_ map: [Float], height: Int, width: Int) -> [Float] {
        let raw = (-5...5).map { Foundation.exp(-Double($0 * $0) / 50) }
        let kernel = raw.map { $0 / raw.reduce(0, +) }
        func reflect(_ i: Int, _ n: Int) -> Int {
            var i = i
            while i < 0 || i >= n { i = i < 0 ? -i : 2 * n - 2 - i }
            return i
        }
        var rows = [Double](repeating: 0, count: map.count), out = [Float](repeating: 0, count: map.count)
        for y in 0..<height {
            for x in 0..<width {
                rows[y * width + x] = kernel.indices.reduce(0.0) { $0 + kernel[$1] * Double(map[y * width + reflect(x + $1 - 5, width)]) }
            }
        }
        for y in 0..<height {
            for x in 0..<width {
                out[y * width + x] = Float(kernel.indices.reduce(0.0) { $0 + kernel[$1] * rows[reflect(y + $1 - 5, height) * width + x] })
            }
        }
        return out
    }
}
