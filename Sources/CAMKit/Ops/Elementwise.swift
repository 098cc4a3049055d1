/// Binary elementwise ops with NumPy broadcasting, and reductions back to a shape.

/// The shape two operands broadcast to, or nil when they do not broadcast.
func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
    let rank = max(a.count, b.count)
    let pa = [Int](repeating: 1, count: rank - a.count) + a
    let pb = [Int](repeating: 1, count: rank - b.count) + b
    var out: [Int] = []
    for (x, y) in zip(pa, pb) {
        guard x == y || x == 1 || y == 1 else { return nil }
        out.append(x == 1 ? y : x)
    }
    return out
}

/// Row-major strides of `shape` padded on the left to `rank`, with 0 where a dimension is broadcast.
private func broadcastStrides(_ shape: [Int], to out: [Int]) -> [Int] {
    let padded = [Int](repeating: 1, count: out.count - shape.count) + shape
    var strides = [Int](repeating: 0, count: out.count)
    var step = 1
    for d in stride(from: out.count - 1, through: 0, by: -1) {
        strides[d] = padded[d] == 1 ? 0 : step
        step *= padded[d]
    }
    return strides
}

/// Applies `op` to every pair of broadcast elements.
private func broadcastApply(_ a: Tensor, _ b: Tensor, _ op: (Float, Float) -> Float) -> Tensor {
    if a.shape == b.shape {
        return Tensor(shape: a.shape) { out in
            a.withScalars { pa in b.withScalars { pb in
                for i in 0..<out.count { out[i] = op(pa[i], pb[i]) }
            } }
        }
    }
    guard let shape = broadcastShape(a.shape, b.shape) else {
        preconditionFailure("shapes \(a.shape) and \(b.shape) do not broadcast")
    }
    let sa = broadcastStrides(a.shape, to: shape), sb = broadcastStrides(b.shape, to: shape)
    let inner = shape.last ?? 1
    let ia = sa.last ?? 0, ib = sb.last ?? 0
    let rows = shape.dropLast().product
    return Tensor(shape: shape) { out in
        a.withScalars { pa in b.withScalars { pb in
            var index = [Int](repeating: 0, count: max(shape.count - 1, 0))
            for row in 0..<rows {
                var oa = 0, ob = 0
                for d in 0..<index.count { oa += index[d] * sa[d]; ob += index[d] * sb[d] }
                let o = row * inner
                for j in 0..<inner { out[o + j] = op(pa[oa + j * ia], pb[ob + j * ib]) }
                var d = index.count - 1
                while d >= 0 { index[d] += 1; if index[d] < shape[d] { break }; index[d] = 0; d -= 1 }
            }
        } }
    }
}

extension Tensor {
    /// Sums this tensor down to `shape`, undoing a broadcast (used by backward passes).
    public func sum(toShape target: [Int]) -> Tensor {
        if shape == target { return self }
        let padded = [Int](repeating: 1, count: rank - target.count) + target
        precondition(broadcastShape(padded, shape) == shape, "cannot reduce \(shape) to \(target)")
        let strides = broadcastStrides(padded, to: shape)
        var out = [Float](repeating: 0, count: target.product)
        var index = [Int](repeating: 0, count: rank)
        withScalars { p in
            for i in 0..<count {
                var o = 0
                for d in 0..<rank { o += index[d] * strides[d] }
                out[o] += p[i]
                var d = rank - 1
                while d >= 0 { index[d] += 1; if index[d] < shape[d] { break }; index[d] = 0; d -= 1 }
            }
        }
        return Tensor(shape: target, scalars: out)
    }

    public static func + (a: Tensor, b: Tensor) -> Tensor {
        traced(.binary(.add), [a, b]) { untracedAdd(a, b) }
    }

    private static func untracedAdd(_ a: Tensor, _ b: Tensor) -> Tensor {
        let out = broadcastApply(a, b, +)
        return record(out, op: "add", inputs: [a, b]) { g, needs in
            [needs[0] ? g.sum(toShape: a.shape) : nil, needs[1] ? g.sum(toShape: b.shape) : nil]
        }
    }

    public static func - (a: Tensor, b: Tensor) -> Tensor {
        traced(.binary(.sub), [a, b]) { untracedSub(a, b) }
    }

    private static func untracedSub(_ a: Tensor, _ b: Tensor) -> Tensor {
        let out = broadcastApply(a, b, -)
        return record(out, op: "sub", inputs: [a, b]) { g, needs in
            [needs[0] ? g.sum(toShape: a.shape) : nil, needs[1] ? (-g).sum(toShape: b.shape) : nil]
        }
    }

    public static func * (a: Tensor, b: Tensor) -> Tensor {
        traced(.binary(.mul), [a, b]) { untracedMul(a, b) }
    }

    private static func untracedMul(_ a: Tensor, _ b: Tensor) -> Tensor {
        let out = broadcastApply(a, b, *)
        return record(out, op: "mul", inputs: [a, b]) { g, needs in
            [needs[0] ? (g.detached() * b.detached()).sum(toShape: a.shape) : nil,
             needs[1] ? (g.detached() * a.detached()).sum(toShape: b.shape) : nil]
        }
    }

    public static func * (a: Tensor, s: Float) -> Tensor {
        traced(.scale(s), [a]) {
            let out = Tensor(shape: a.shape) { o in a.withScalars { p in for i in 0..<o.count { o[i] = p[i] * s } } }
            return record(out, op: "scale", inputs: [a]) { g, _ in [g * s] }
        }
    }

    public static prefix func - (a: Tensor) -> Tensor { a * -1 }
}
