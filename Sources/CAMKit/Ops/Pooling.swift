/// Average pooling over the spatial dimensions of NCHW tensors.

/// Averages each channel plane: (N, C, H, W) -> (N, C, 1, 1), the head of all three networks.
public func globalAveragePool2d(_ x: Tensor) -> Tensor {
    traced(.globalAveragePool, [x]) { untracedGlobalAveragePool2d(x) }
}

private func untracedGlobalAveragePool2d(_ x: Tensor) -> Tensor {
    precondition(x.rank == 4 && x.shape[2] * x.shape[3] > 0,
                 "globalAveragePool2d: input must be NCHW with a non-empty plane, got shape \(x.shape)")
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let plane = h * w
    let out = Tensor(shape: [n, c, 1, 1]) { out in
        x.withScalars { px in
            for i in 0..<(n * c) {
                let p = px + i * plane
                var s: Float = 0
                for k in 0..<plane { s += p[k] }
                out[i] = s / Float(plane)
            }
        }
    }
    return Tensor.record(out, op: "globalAveragePool2d", inputs: [x]) { g, _ in
        [Tensor(shape: x.shape) { gx in
            g.withScalars { pg in
                for i in 0..<(n * c) {
                    (gx.baseAddress! + i * plane).initialize(repeating: pg[i] / Float(plane), count: plane)
                }
            }
        }]
    }
}

/// The input rows (or columns) averaged into output bin `i` of `outSize` over `inSize`,
/// by PyTorch's rule: floor(i * in / out) ..< ceil((i + 1) * in / out). Bins may overlap.
private func adaptiveBin(_ i: Int, _ inSize: Int, _ outSize: Int) -> Range<Int> {
    (i * inSize / outSize)..<(((i + 1) * inSize + outSize - 1) / outSize)
}

/// Averages (N, C, H, W) into (N, C, outH, outW) bins, exactly as PyTorch's `adaptive_avg_pool2d`.
public func adaptiveAveragePool2d(_ x: Tensor, outputSize: (Int, Int)) -> Tensor {
    traced(.adaptiveAveragePool(height: outputSize.0, width: outputSize.1), [x]) {
        untracedAdaptiveAveragePool2d(x, outputSize: outputSize)
    }
}

private func untracedAdaptiveAveragePool2d(_ x: Tensor, outputSize: (Int, Int)) -> Tensor {
    precondition(x.rank == 4, "adaptiveAveragePool2d: input must be NCHW, got shape \(x.shape)")
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (oh, ow) = outputSize
    precondition(oh > 0 && ow > 0 && h > 0 && w > 0,
                 "adaptiveAveragePool2d: output size \(outputSize) and input plane of \(x.shape) must be non-empty")
    let rows = (0..<oh).map { adaptiveBin($0, h, oh) }
    let cols = (0..<ow).map { adaptiveBin($0, w, ow) }
    let out = Tensor(shape: [n, c, oh, ow]) { out in
        x.withScalars { px in
            for i in 0..<(n * c) {
                let p = px + i * h * w
                for (oy, ys) in rows.enumerated() {
                    for (ox, xs) in cols.enumerated() {
                        var s: Float = 0
                        for y in ys { for x in xs { s += p[y * w + x] } }
                        out[(i * oh + oy) * ow + ox] = s / Float(ys.count * xs.count)
                    }
                }
            }
        }
    }
    return Tensor.record(out, op: "adaptiveAveragePool2d", inputs: [x]) { g, _ in
        var gx = [Float](repeating: 0, count: x.count)
        g.withScalars { pg in
            gx.withUnsafeMutableBufferPointer { gx in
                for i in 0..<(n * c) {
                    let p = gx.baseAddress! + i * h * w
                    for (oy, ys) in rows.enumerated() {
                        for (ox, xs) in cols.enumerated() {
                            let share = pg[(i * oh + oy) * ow + ox] / Float(ys.count * xs.count)
                            for y in ys { for x in xs { p[y * w + x] += share } }
                        }
                    }
                }
            }
        }
        return [Tensor(shape: x.shape, scalars: gx)]
    }
}
