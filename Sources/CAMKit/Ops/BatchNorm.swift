/// Inference-mode BatchNorm over NCHW with running statistics.
/// The statistics fold into a per-channel scale and shift: y = x * scale + shift.
public func batchNorm2d(_ x: Tensor, mean: Tensor, variance: Tensor, weight: Tensor?, bias: Tensor?, eps: Float) -> Tensor {
    traced([x, mean, variance] + [weight, bias].compactMap { $0 }, {
        untracedBatchNorm2d(x, mean: mean, variance: variance, weight: weight, bias: bias, eps: eps)
    }) { v, tracer in
        // The graph op always takes a scale and a shift: 1 and 0 give the very same arithmetic.
        let channels = [x.shape[1]]
        let scale = weight == nil ? tracer.constant(Tensor(repeating: 1, shape: channels)) : v[3]
        let shift = bias == nil ? tracer.constant(Tensor.zeros(channels)) : v[weight == nil ? 3 : 4]
        return (.batchNorm(epsilon: eps), [v[0], scale, shift, v[1], v[2]])
    }
}

private func untracedBatchNorm2d(_ x: Tensor, mean: Tensor, variance: Tensor, weight: Tensor?, bias: Tensor?, eps: Float) -> Tensor {
    precondition(x.rank == 4, "batchNorm2d takes NCHW, got \(x.shape)")
    let (n, c, hw) = (x.shape[0], x.shape[1], x.shape[2] * x.shape[3])
    for (name, p) in [("mean", mean), ("variance", variance), ("weight", weight), ("bias", bias)] {
        precondition(p == nil || p!.shape == [c], "batchNorm2d \(name) \(p!.shape) does not match input \(x.shape)")
    }
    let rstd = variance.scalars.map { 1 / ($0 + eps).squareRoot() }
    let scale = (0..<c).map { rstd[$0] * (weight?.scalars[$0] ?? 1) }
    let shift = (0..<c).map { (bias?.scalars[$0] ?? 0) - mean.scalars[$0] * scale[$0] }
    let out = Tensor(shape: x.shape) { out in
        guard let y = out.baseAddress else { return }
        x.withScalars { src in
            parallelChunks(n * c, grain: max(1, 32768 / max(hw, 1))) { planes in
                for plane in planes {
                    let s = scale[plane % c], t = shift[plane % c]
                    let p = src + plane * hw, q = y + plane * hw
                    for j in 0..<hw { q[j] = p[j] * s + t }
                }
            }
        }
    }
    let inputs = [x, mean, variance] + [weight, bias].compactMap { $0 }
    return Tensor.record(out, op: "batchNorm2d", inputs: inputs) { g, needs in
        let needW = weight != nil && needs[3], needB = bias != nil && needs[weight == nil ? 3 : 4]
        var grads: [Tensor?] = [nil, nil, nil]
        g.withScalars { pg in
            if needs[0] {
                grads[0] = Tensor(shape: x.shape) { dx in
                    let d = dx.baseAddress!
                    parallelChunks(n * c, grain: max(1, 32768 / max(hw, 1))) { planes in
                        for plane in planes {
                            let s = scale[plane % c], q = pg + plane * hw, o = d + plane * hw
                            for j in 0..<hw { o[j] = q[j] * s }
                        }
                    }
                }
            }
            guard needs[1] || needs[2] || needW || needB else { return }
            // Per-channel sums of g and of g (x - mean).
            var sumG = [Double](repeating: 0, count: c), sumGD = [Double](repeating: 0, count: c)
            x.withScalars { px in
                for plane in 0..<(n * c) {
                    let ch = plane % c, m = mean.scalars[ch], p = px + plane * hw, q = pg + plane * hw
                    var a: Float = 0, b: Float = 0
                    for j in 0..<hw { a += q[j]; b += q[j] * (p[j] - m) }
                    sumG[ch] += Double(a)
                    sumGD[ch] += Double(b)
                }
            }
            let w = (0..<c).map { weight?.scalars[$0] ?? 1 }
            if needs[1] { grads[1] = Tensor(shape: [c], scalars: (0..<c).map { Float(-sumG[$0]) * scale[$0] }) }
            if needs[2] {
                // d rstd / d var = -rstd^3 / 2
                grads[2] = Tensor(shape: [c], scalars: (0..<c).map {
                    Float(sumGD[$0]) * w[$0] * -0.5 * rstd[$0] * rstd[$0] * rstd[$0]
                })
            }
            if needW { grads.append(Tensor(shape: [c], scalars: (0..<c).map { Float(sumGD[$0]) * rstd[$0] })) }
            else if weight != nil { grads.append(nil) }
            if needB { grads.append(Tensor(shape: [c], scalars: sumG.map(Float.init))) }
        }
        while grads.count < inputs.count { grads.append(nil) }
        return grads
    }
}
