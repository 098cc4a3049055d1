/// Copies of one image's layer output (spatial form, (1, C, h, w)), each with one channel set
/// to a constant: what Ablation-CAM feeds the rest of the model. Kept as a description rather
/// than C copies of the map, so a model that can run only what follows the layer may avoid
/// writing them all out (after a global pooling only one number per copy changes).
public struct ChannelAblation {
    /// The layer output of the image, (1, C, h, w).
    public let base: Tensor
    /// The channel knocked out in each copy.
    public let channels: [Int]
    /// The value every element of that channel takes in each copy.
    public let values: [Float]

    public init(base: Tensor, channels: [Int], values: [Float]) {
        precondition(base.rank == 4 && base.shape[0] == 1 && channels.count == values.count,
                     "an ablation of a (1, C, h, w) map with one value per channel, got \(base.shape)")
        self.base = base
        self.channels = channels
        self.values = values
    }

    public var count: Int { channels.count }

    /// The copies written out, (count, C, h, w).
    public func dense() -> Tensor {
        let plane = base.shape[2] * base.shape[3], size = base.count
        return Tensor(shape: [count] + base.shape.dropFirst()) { out in
            base.withScalars { src in
                for (i, (channel, value)) in zip(channels, values).enumerated() {
                    let copy = out.baseAddress! + i * size
                    copy.update(from: src, count: size)
                    (copy + channel * plane).update(repeating: value, count: plane)
                }
            }
        }
    }

    /// For an op that reduces each channel on its own (a global average pool), what each copy's
    /// knocked-out channel reduces to: the op on a plane of its value, once per distinct value.
    /// The copies reduce to the base's numbers but that one.
    func reducedChannels(by op: GraphOp) -> [Float] {
        var planes: [UInt32: Float] = [:]
        return values.map { value in
            if let known = planes[value.bitPattern] { return known }
            let result = op.apply([Tensor(repeating: value, shape: [1, 1, base.shape[2], base.shape[3]])]).scalars[0]
            planes[value.bitPattern] = result
            return result
        }
    }

    /// `op` applied to every copy, for an op that reduces each channel on its own: the base is
    /// reduced once and each copy differs in one number.
    func reducedPerChannel(by op: GraphOp) -> Tensor {
        let reduced = op.apply([base])
        let c = base.shape[1]
        precondition(reduced.count == c, "\(op.name) does not reduce \(base.shape) to one value per channel")
        let changed = reducedChannels(by: op)
        return Tensor(shape: [count] + reduced.shape.dropFirst()) { out in
            reduced.withScalars { src in
                for (i, (channel, value)) in zip(channels, changed).enumerated() {
                    let copy = out.baseAddress! + i * c
                    copy.update(from: src, count: c)
                    copy[channel] = value
                }
            }
        }
    }
}

/// A model that can run only the part after a layer, given what comes before from a pass it
/// makes itself; Ablation-CAM then costs a little more than the layers after the target.
public protocol LayerSuffixRunning {
    /// The logits of `input` (one image) for each ablated copy of `layer`'s output.
    func logits(of input: Tensor, layer: String, ablation: ChannelAblation) throws -> Tensor
}
