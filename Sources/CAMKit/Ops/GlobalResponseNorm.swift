/// ConvNeXt V2 GRN on NCHW (timm GlobalResponseNorm with channels_last=False): gx = L2 norm over (H,W) per (n,c);
/// nx = gx / (mean over c of gx + eps); y = x + bias + weight * (x * nx). weight, bias: (C).
public func globalResponseNorm2d(_ x: Tensor, weight: Tensor, bias: Tensor, eps: Float = 1e-6) -> Tensor {
    traced(.globalResponseNorm(epsilon: eps), [x, weight, bias]) { untracedGlobalResponseNorm2d(x, weight: weight, bias: bias, eps: eps) }
}

private func untracedGlobalResponseNorm2d(_ x: Tensor, weight: Tensor, bias: Tensor, eps: Float) -> Tensor {
    precondition(x.rank == 4, "globalResponseNorm2d takes NCHW, got \(x.shape)")
    let (n, c, hw) = (x.shape[0], x.shape[1], x.shape[2] * x.shape[3])
    precondition(weight.shape == [c] && bias.shape == [c],
                 "globalResponseNorm2d weight \(weight.shape) / bias \(bias.shape) do not match input \(x.shape)")
    let planeGrain = max(1, 32768 / max(hw, 1))
    // gx per (n, c) plane, then nx.
    var gx = [Float](repeating: 0, count: n * c)
    x.withScalars { src in gx.withUnsafeMutableBufferPointer { gx in
        let gx = gx.baseAddress!
        parallelChunks(n * c, grain: planeGrain) { planes in
            for plane in planes { gx[plane] = Float(sumSquares(src + plane * hw, hw).squareRoot()) }
        }
    } }
    var denominator = [Float](repeating: 0, count: n)
    var nx = gx
    for batch in 0..<n {
        let planes = batch * c ..< (batch + 1) * c
        denominator[batch] = Float(gx[planes].reduce(0.0) { $0 + Double($1) } / Double(c)) + eps
        for plane in planes { nx[plane] = gx[plane] / denominator[batch] }
    }
    let out = Tensor(shape: x.shape) { out in
        guard let y = out.baseAddress else { return }
        x.withScalars { src in weight.withScalars { w in bias.withScalars { b in
            parallelChunks(n * c, grain: planeGrain) { planes in
                for plane in planes {
                    let ch = plane % c, scale = nx[plane], wc = w[ch], bc = b[ch]
                    let p = src + plane * hw, q = y + plane * hw
                    // timm's order: x + addcmul(bias, weight, x * nx)
                    for j in 0..<hw { q[j] = p[j] + (bc + wc * (p[j] * scale)) }
                }
            }
        } } }
    }
    return Tensor.record(out, op: "globalResponseNorm2d", inputs: [x, weight, bias]) { g, needs in
        // Per plane: sum of g x (for the x and weight gradients) and of g (for the bias).
        var sumGX = [Float](repeating: 0, count: n * c), sumG = [Float](repeating: 0, count: n * c)
        x.withScalars { px in g.withScalars { pg in sumGX.withUnsafeMutableBufferPointer { sgx in
        sumG.withUnsafeMutableBufferPointer { sg in
            let (sgx, sg) = (sgx.baseAddress!, sg.baseAddress!)
            parallelChunks(n * c, grain: planeGrain) { planes in
                for plane in planes {
                    let p = px + plane * hw, q = pg + plane * hw
                    var a: Float = 0, b: Float = 0
                    for j in 0..<hw { a += q[j] * p[j]; b += q[j] }
                    sgx[plane] = a
                    sg[plane] = b
                }
            }
        } } } }
        var dx: Tensor?
        if needs[0] {
            // With a = w * sum(g x) (the gradient of nx) and D = mean(gx) + eps:
            // dL/dgx = a / D - sum_c(a gx) / (C D^2), and dgx/dx = x / gx (0 where gx = 0).
            var normScale = [Float](repeating: 0, count: n * c)
            for batch in 0..<n {
                let planes = batch * c ..< (batch + 1) * c, d = denominator[batch]
                let a = planes.map { weight.scalars[$0 - batch * c] * sumGX[$0] }
                let cross = zip(a, planes).reduce(0.0) { $0 + Double($1.0 * gx[$1.1]) }
                let shared = Float(cross / (Double(c) * Double(d) * Double(d)))
                for (k, plane) in planes.enumerated() where gx[plane] > 0 {
                    normScale[plane] = (a[k] / d - shared) / gx[plane]
                }
            }
            dx = Tensor(shape: x.shape) { dx in
                guard let o = dx.baseAddress else { return }
                x.withScalars { px in g.withScalars { pg in
                    parallelChunks(n * c, grain: planeGrain) { planes in
                        for plane in planes {
                            let direct = 1 + weight.scalars[plane % c] * nx[plane], viaNorm = normScale[plane]
                            let p = px + plane * hw, q = pg + plane * hw, r = o + plane * hw
                            for j in 0..<hw { r[j] = q[j] * direct + p[j] * viaNorm }
                        }
                    }
                } }
            }
        }
        func perChannel(_ f: (Int) -> Float) -> Tensor {
            Tensor(shape: [c], scalars: (0..<c).map { ch in (0..<n).reduce(0) { $0 + f($1 * c + ch) } })
        }
        return [dx, needs[1] ? perChannel { sumGX[$0] * nx[$0] } : nil, needs[2] ? perChannel { sumG[$0] } : nil]
    }
}
