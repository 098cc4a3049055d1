/// How a layer lays out its activations, and so how they become the (N, C, h, w) map every CAM
/// method works on: pytorch-grad-cam's `reshape_transform`, decided once per layer.
public enum ActivationLayout: Equatable, Sendable, Codable, CustomStringConvertible {
    /// (N, C, h, w): convolutional feature maps.
    case spatial
    /// (N, prefix + h·w, C): transformer tokens, the first `prefix` being class or distillation
    /// tokens that are dropped, the rest a row-major h×w grid.
    case tokens(prefix: Int, height: Int, width: Int)
    /// (N, h, w, C), as timm's Swin keeps its stages.
    case channelsLast

    public var description: String {
        switch self {
        case .spatial: return "spatial"
        case .tokens(let prefix, let h, let w): return "tokens (\(prefix) prefix, \(h)×\(w) grid)"
        case .channelsLast: return "channels-last"
        }
    }

    /// Whether a layer output of `shape` can be read this way.
    public func fits(_ shape: [Int]) -> Bool {
        switch self {
        case .spatial, .channelsLast: return shape.count == 4
        case .tokens(let prefix, let h, let w): return shape.count == 3 && prefix >= 0 && h >= 1 && w >= 1 && shape[1] == prefix + h * w
        }
    }

    /// The (N, C, h, w) view of a layer output (no gradient recorded).
    public func spatial(_ t: Tensor) -> Tensor {
        switch self {
        case .spatial:
            return t
        case .channelsLast:
            return t.detached().permuted([0, 3, 1, 2])
        case .tokens(let prefix, let h, let w):
            let (n, count, c) = (t.shape[0], t.shape[1], t.shape[2])
            let grid = Tensor(shape: [n, h * w, c]) { out in
                t.withScalars { src in
                    for i in 0..<n {
                        (out.baseAddress! + i * h * w * c).update(from: src + (i * count + prefix) * c, count: h * w * c)
                    }
                }
            }
            return grid.reshaped([n, h, w, c]).permuted([0, 3, 1, 2])
        }
    }

    /// A layer output in this layout from an (M, C, h, w) map; prefix tokens are taken from
    /// `original` (batch 1), as a replaced layer output keeps them.
    public func layerOutput(fromSpatial map: Tensor, original: Tensor) -> Tensor {
        switch self {
        case .spatial:
            return map
        case .channelsLast:
            return map.permuted([0, 2, 3, 1])
        case .tokens(let prefix, let h, let w):
            let (m, c) = (map.shape[0], map.shape[1])
            let grid = map.permuted([0, 2, 3, 1])
            let count = prefix + h * w
            return Tensor(shape: [m, count, c]) { out in
                original.withScalars { head in grid.withScalars { body in
                    for i in 0..<m {
                        let row = out.baseAddress! + i * count * c
                        row.update(from: head, count: prefix * c)
                        (row + prefix * c).update(from: body + i * h * w * c, count: h * w * c)
                    }
                } }
            }
        }
    }
}
