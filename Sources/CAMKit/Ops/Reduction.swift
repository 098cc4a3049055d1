/// Sums and means along one axis.

extension Tensor {
    /// Sum along `axis` (negative counts from the end), dropping it unless `keepDims`.
    public func sum(axis: Int, keepDims: Bool = false) -> Tensor {
        traced(.reduce(.sum, axes: [normalizedAxis(axis, rank: rank, "sum of \(shape)")], keepDims: keepDims), [self]) {
            reduce(axis: axis, keepDims: keepDims, scale: 1, op: "sum")
        }
    }

    /// Mean along `axis` (negative counts from the end), dropping it unless `keepDims`.
    public func mean(axis: Int, keepDims: Bool = false) -> Tensor {
        let a = normalizedAxis(axis, rank: rank, "mean of \(shape)")
        return traced(.reduce(.mean, axes: [a], keepDims: keepDims), [self]) {
            reduce(axis: a, keepDims: keepDims, scale: 1 / Float(shape[a]), op: "mean")
        }
    }

    /// `scale` times the sum along `axis`; its gradient is `scale` times the output gradient
    /// spread back along the axis.
    private func reduce(axis: Int, keepDims: Bool, scale: Float, op: String) -> Tensor {
        let a = normalizedAxis(axis, rank: rank, "\(op) of \(shape)")
        let outer = Array(shape[..<a]).product, n = shape[a], inner = Array(shape[(a + 1)...]).product
        var outShape = shape
        if keepDims { outShape[a] = 1 } else { outShape.remove(at: a) }
        let out = Tensor(shape: outShape) { out in
            guard let dst = out.baseAddress else { return }
            withScalars { src in
                if inner == 1 {
                    for o in 0..<outer { dst[o] = Float(sumVectors(src + o * n, n)) * scale }
                    return
                }
                // Strided axis: accumulate whole contiguous rows of `inner` elements.
                dst.initialize(repeating: 0, count: outer * inner)
                for o in 0..<outer {
                    let d = dst + o * inner
                    for j in 0..<n { addRow(src + (o * n + j) * inner, into: d, inner) }
                    if scale != 1 { for i in 0..<inner { d[i] *= scale } }
                }
            }
        }
        let inputShape = shape
        return Tensor.record(out, op: op, inputs: [self]) { g, _ in
            [Tensor(shape: inputShape) { dx in
                guard let dst = dx.baseAddress else { return }
                g.withScalars { src in
                    for o in 0..<outer {
                        for j in 0..<n {
                            let d = dst + (o * n + j) * inner, s = src + o * inner
                            for i in 0..<inner { d[i] = s[i] * scale }
                        }
                    }
                }
            }]
        }
    }
}

/// `dst[i] += src[i]` for `n` elements.
@inline(__always) func addRow(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, _ n: Int) {
    for i in 0..<n { dst[i] += src[i] }
}
