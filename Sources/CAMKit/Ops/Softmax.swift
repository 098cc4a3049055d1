/// exp(x - max) / sum, along one axis (negative counts from the end).
public func softmax(_ x: Tensor, axis: Int = -1) -> Tensor {
    traced(.softmax(axis: normalizedAxis(axis, rank: x.rank, "softmax of \(x.shape)")), [x]) { untracedSoftmax(x, axis: axis) }
}

private func untracedSoftmax(_ x: Tensor, axis: Int) -> Tensor {
    let a = normalizedAxis(axis, rank: x.rank, "softmax of \(x.shape)")
    let outer = Array(x.shape[..<a]).product, n = x.shape[a], inner = Array(x.shape[(a + 1)...]).product
    let out = Tensor(shape: x.shape) { out in
        guard let y = out.baseAddress, n > 0 else { return }
        x.withScalars { src in
            if inner == 1 {
                parallelChunks(outer, grain: max(1, 16384 / n)) { range in
                    for o in range { softmaxRow(src + o * n, y + o * n, n) }
                }
                return
            }
            parallelChunks(outer, grain: max(1, 16384 / max(n * inner, 1))) { range in
                // Works on `inner` independent rows at once; the axis is strided by `inner`.
                var stats = [Float](repeating: 0, count: inner)
                stats.withUnsafeMutableBufferPointer { s in
                    let s = s.baseAddress!
                    for o in range {
                        let p = src + o * n * inner, q = y + o * n * inner
                        s.update(from: p, count: inner)
                        for j in 1..<n { let r = p + j * inner; for i in 0..<inner { s[i] = max(s[i], r[i]) } }
                        for j in 0..<n {
                            let r = p + j * inner, e = q + j * inner
                            for i in 0..<inner { e[i] = r[i] - s[i] }
                            exponentiate(e, inner)
                        }
                        for i in 0..<inner { s[i] = 0 }
                        for j in 0..<n { addRow(q + j * inner, into: s, inner) }
                        for i in 0..<inner { s[i] = 1 / s[i] }
                        for j in 0..<n { let e = q + j * inner; for i in 0..<inner { e[i] *= s[i] } }
                    }
                }
            }
        }
    }
    // The backward keeps the probabilities, not `out`: `out` holds this closure, and keeping
    // it here would keep it, and the whole recorded graph behind it, alive forever.
    let probabilities = out.detached()
    return Tensor.record(out, op: "softmax", inputs: [x]) { g, _ in
        // s * (g - sum_axis(g * s))
        [Tensor(shape: x.shape) { dx in
            guard let d = dx.baseAddress, n > 0 else { return }
            g.withScalars { pg in probabilities.withScalars { ps in
                var dot = [Float](repeating: 0, count: inner)
                for o in 0..<outer {
                    let base = o * n * inner
                    for i in 0..<inner { dot[i] = 0 }
                    for j in 0..<n { for i in 0..<inner { dot[i] += pg[base + j * inner + i] * ps[base + j * inner + i] } }
                    for j in 0..<n {
                        for i in 0..<inner {
                            let k = base + j * inner + i
                            d[k] = ps[k] * (pg[k] - dot[i])
                        }
                    }
                }
            } }
        }]
    }
}

/// Softmax of one contiguous row (the last axis, as attention's), a vector at a time. The sum
/// adds the exponentials in the same order as the strided path adds its rows.
private func softmaxRow(_ p: UnsafePointer<Float>, _ q: UnsafeMutablePointer<Float>, _ n: Int) {
    var top = -Float.infinity
    var i = 0
    if n >= vectorWidth {
        var lanes = p.loadVector(0)
        i = vectorWidth
        while i + vectorWidth <= n { lanes = pointwiseMax(lanes, p.loadVector(i)); i += vectorWidth }
        top = lanes.max()
    }
    while i < n { top = max(top, p[i]); i += 1 }
    let shift = FloatVector(repeating: top)
    i = 0
    while i + vectorWidth <= n { q.storeVector(p.loadVector(i) - shift, i); i += vectorWidth }
    while i < n { q[i] = p[i] - top; i += 1 }
    exponentiate(q, n)
    var sum: Float = 0
    for j in 0..<n { sum += q[j] }
    let scale = FloatVector(repeating: 1 / sum)
    i = 0
    while i + vectorWidth <= n { q.storeVector(q.loadVector(i) * scale, i); i += vectorWidth }
    while i < n { q[i] *= scale[0]; i += 1 }
}

/// `p[i] = exp(p[i])` in place, a vector at a time.
private func exponentiate(_ p: UnsafeMutablePointer<Float>, _ n: Int) {
    var i = 0
    while i + vectorWidth <= n { p.storeVector(vexp(p.loadVector(i)), i); i += vectorWidth }
    if i < n { storePartial(vexp(loadPartial(UnsafePointer(p + i), n - i)), p + i, n - i) }
}
