import CKernels

/// Layer normalisation over the last axis (F.layer_norm) and over the channels of NCHW
/// (timm LayerNorm2d). Statistics are two-pass (mean, then mean squared deviation), as torch's.

private func checkAffine(_ p: Tensor?, _ c: Int, _ name: String, _ x: Tensor) {
    precondition(p == nil || p!.shape == [c], "\(name) \(p!.shape) does not match \(c) features of input \(x.shape)")
}

/// LayerNorm over the last axis (PyTorch F.layer_norm semantics: biased variance, eps inside sqrt).
public func layerNorm(_ x: Tensor, weight: Tensor?, bias: Tensor?, eps: Float) -> Tensor {
    traced([x] + [weight, bias].compactMap { $0 }, { untracedLayerNorm(x, weight: weight, bias: bias, eps: eps) }) { v, tracer in
        (.layerNorm(axis: x.rank - 1, epsilon: eps), tracer.normOperands(v, hasWeight: weight != nil, hasBias: bias != nil))
    }
}

private func untracedLayerNorm(_ x: Tensor, weight: Tensor?, bias: Tensor?, eps: Float) -> Tensor {
    precondition(x.rank >= 1, "layerNorm of a scalar")
    let c = x.shape[x.rank - 1], rows = x.count / max(c, 1)
    checkAffine(weight, c, "layerNorm weight", x)
    checkAffine(bias, c, "layerNorm bias", x)
    var mean = [Float](repeating: 0, count: rows), rstd = [Float](repeating: 0, count: rows)
    let out = Tensor(shape: x.shape) { out in
        guard let y = out.baseAddress, c > 0 else { return }
        let w = weight?.scalars, b = bias?.scalars
        x.withScalars { src in mean.withUnsafeMutableBufferPointer { pm in rstd.withUnsafeMutableBufferPointer { pr in
            let pm = pm.baseAddress!, pr = pr.baseAddress!
            parallelChunks(rows, grain: max(1, 16384 / c)) { range in
                for row in range {
                    let p = src + row * c, q = y + row * c
                    let m = Float(sumVectors(p, c) / Double(c))
                    let variance = Float(sumSquares(p, c, around: m) / Double(c))
                    let r = 1 / (variance + eps).squareRoot()
                    pm[row] = m
                    pr[row] = r
                    for i in 0..<c { q[i] = (p[i] - m) * r }
                    if let w { w.withUnsafeBufferPointer { w in for i in 0..<c { q[i] *= w[i] } } }
                    if let b { b.withUnsafeBufferPointer { b in for i in 0..<c { q[i] += b[i] } } }
                }
            }
        } } }
    }
    let inputs = [x] + [weight, bias].compactMap { $0 }
    return Tensor.record(out, op: "layerNorm", inputs: inputs) { g, needs in
        let needW = weight != nil && needs[1], needB = bias != nil && needs[weight == nil ? 1 : 2]
        var dx: Tensor?
        var dw = [Double](repeating: 0, count: needW ? c : 0), db = [Double](repeating: 0, count: needB ? c : 0)
        x.withScalars { px in g.withScalars { pg in
            if needs[0] {
                dx = Tensor(shape: x.shape) { dx in
                    guard let d = dx.baseAddress else { return }
                    let w = weight?.scalars
                    for row in 0..<rows {
                        let p = px + row * c, q = pg + row * c, o = d + row * c
                        let m = mean[row], r = rstd[row]
                        // o = (g w); dx = r (o - mean(o) - xhat mean(o xhat))
                        var sumG = 0.0, sumGX = 0.0
                        for i in 0..<c {
                            let gw = q[i] * (w?[i] ?? 1), xhat = (p[i] - m) * r
                            o[i] = gw
                            sumG += Double(gw)
                            sumGX += Double(gw * xhat)
                        }
                        let meanG = Float(sumG / Double(c)), meanGX = Float(sumGX / Double(c))
                        for i in 0..<c { o[i] = r * (o[i] - meanG - (p[i] - m) * r * meanGX) }
                    }
                }
            }
            if needW || needB {
                for row in 0..<rows {
                    let p = px + row * c, q = pg + row * c, m = mean[row], r = rstd[row]
                    for i in 0..<c {
                        if needW { dw[i] += Double(q[i] * (p[i] - m) * r) }
                        if needB { db[i] += Double(q[i]) }
                    }
                }
            }
        } }
        var grads: [Tensor?] = [dx]
        if weight != nil { grads.append(needW ? Tensor(shape: [c], scalars: dw.map(Float.init)) : nil) }
        if bias != nil { grads.append(needB ? Tensor(shape: [c], scalars: db.map(Float.init)) : nil) }
        return grads
    }
}

/// ONNX LayerNormalization: normalised over every axis from `axis` on, `weight` and `bias`
/// shaped like those axes (torch's `normalized_shape`). The trailing axes are one row of the
/// last-axis `layerNorm`: the reshapes share the elements, so this costs nothing more.
public func layerNorm(_ x: Tensor, fromAxis axis: Int, weight: Tensor?, bias: Tensor?, eps: Float) -> Tensor {
    precondition(axis >= 0 && axis < x.rank, "layerNorm: axis \(axis) out of range for \(x.shape)")
    let normalized = Array(x.shape[axis...]), features = normalized.product
    for (name, p) in [("weight", weight), ("bias", bias)] {
        precondition(p == nil || p!.shape == normalized, "layerNorm \(name) \(p!.shape) does not match axes \(normalized) of \(x.shape)")
    }
    let rows = x.reshaped(Array(x.shape[..<axis]) + [features])
    return layerNorm(rows, weight: weight?.reshaped([features]), bias: bias?.reshaped([features]), eps: eps).reshaped(x.shape)
}

/// timm LayerNorm2d: NCHW, normalised over C at each (n, h, w). Do NOT permute/copy: vectorise over the contiguous H*W axis.
public func layerNorm2d(_ x: Tensor, weight: Tensor?, bias: Tensor?, eps: Float) -> Tensor {
    traced([x] + [weight, bias].compactMap { $0 }, { untracedLayerNorm2d(x, weight: weight, bias: bias, eps: eps) }) { v, tracer in
        (.layerNorm2d(epsilon: eps), tracer.normOperands(v, hasWeight: weight != nil, hasBias: bias != nil))
    }
}

private func untracedLayerNorm2d(_ x: Tensor, weight: Tensor?, bias: Tensor?, eps: Float) -> Tensor {
    precondition(x.rank == 4, "layerNorm2d takes NCHW, got \(x.shape)")
    let (n, c, hw) = (x.shape[0], x.shape[1], x.shape[2] * x.shape[3])
    checkAffine(weight, c, "layerNorm2d weight", x)
    checkAffine(bias, c, "layerNorm2d bias", x)
    let tiling = SpatialTiling(n: n, hw: hw)
    // Per (n, h, w) statistics, kept for backward.
    var mean = [Float](repeating: 0, count: n * hw), rstd = [Float](repeating: 0, count: n * hw)
    KernelInstructionSet.prepare()
    let out = Tensor(shape: x.shape) { out in
        guard let y = out.baseAddress, c > 0 else { return }
        x.withScalars { src in mean.withUnsafeMutableBufferPointer { pm in rstd.withUnsafeMutableBufferPointer { pr in
        withOptionalScalars(weight) { w in withOptionalScalars(bias) { b in
            let pm = pm.baseAddress!, pr = pr.baseAddress!
            tiling.forEachTile { batch, start, width in
                var scratch = [Float](repeating: 0, count: width)
                // Two passes for the statistics and one to normalise, while the tile is in cache.
                ck_layernorm2d_forward(src + batch * c * hw + start, y + batch * c * hw + start, pm + batch * hw + start,
                                       pr + batch * hw + start, w, b, c, hw, width, eps, &scratch)
            }
        } }
        } } }
    }
    let inputs = [x] + [weight, bias].compactMap { $0 }
    return Tensor.record(out, op: "layerNorm2d", inputs: inputs) { g, needs in
        let needW = weight != nil && needs[1], needB = bias != nil && needs[weight == nil ? 1 : 2]
        var dx: Tensor?
        var grads: [Tensor?] = []
        x.withScalars { px in g.withScalars { pg in mean.withUnsafeBufferPointer { pm in rstd.withUnsafeBufferPointer { pr in
            let pm = pm.baseAddress!, pr = pr.baseAddress!
            if needs[0] {
                dx = Tensor(shape: x.shape) { dx in
                    guard let d = dx.baseAddress, c > 0 else { return }
                    withOptionalScalars(weight) { w in
                        tiling.forEachTile { batch, start, width in
                            // dx = r (o - mean_c(o) - xhat mean_c(o xhat)) with o = g w.
                            var scratch = [Float](repeating: 0, count: 2 * width)
                            let base = batch * c * hw + start
                            ck_layernorm2d_backward(px + base, pg + base, d + base, pm + batch * hw + start,
                                                    pr + batch * hw + start, w, c, hw, width, &scratch)
                        }
                    }
                }
            }
            grads.append(dx)
            // Per-channel sums over n, h, w of g xhat and of g.
            if weight != nil {
                grads.append(!needW ? nil : Tensor(shape: [c]) { dw in
                    for ch in 0..<c {
                        var total = 0.0
                        for batch in 0..<n {
                            let p = px + (batch * c + ch) * hw, q = pg + (batch * c + ch) * hw
                            let m = pm + batch * hw, r = pr + batch * hw
                            var acc: Float = 0
                            for j in 0..<hw { acc += q[j] * (p[j] - m[j]) * r[j] }
                            total += Double(acc)
                        }
                        dw[ch] = Float(total)
                    }
                })
            }
            if bias != nil {
                grads.append(!needB ? nil : Tensor(shape: [c]) { db in
                    for ch in 0..<c {
                        db[ch] = Float((0..<n).reduce(0.0) { $0 + sumVectors(pg + ($1 * c + ch) * hw, hw) })
                    }
                })
            }
        } } } }
        return grads
    }
}

/// Splits each image's H*W positions into tiles of at most 128 (a tile of every channel stays
/// in L2 across the passes), with at least one tile per core so 7x7 maps still use both.
struct SpatialTiling {
    let n: Int, hw: Int, width: Int

    init(n: Int, hw: Int) {
        self.n = n
        self.hw = hw
        let threads = ComputeThreads.count
        let perCore = (hw + threads - 1) / threads
        width = max(1, min(128, n >= threads ? 128 : (perCore + 15) / 16 * 16))
    }

    /// `body(batch, start, width)` for every tile, tiles spread over the cores.
    func forEachTile(_ body: (Int, Int, Int) -> Void) {
        let perImage = (hw + width - 1) / width
        parallelChunks(n * perImage, grain: 1) { range in
            for t in range {
                let (batch, k) = t.quotientAndRemainder(dividingBy: perImage)
                body(batch, k * width, min(width, hw - k * width))
            }
        }
    }
}

/// `body` with the tensor's elements, or with nil for no tensor: the optional affine
/// parameters of the C kernels.
private func withOptionalScalars<R>(_ t: Tensor?, _ body: (UnsafePointer<Float>?) -> R) -> R {
    guard let t else { return body(nil) }
    return t.withScalars { body($0) }
}
