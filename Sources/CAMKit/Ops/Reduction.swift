/// Sums, means and maxima over any set of axes (ONNX ReduceSum/ReduceMean/ReduceMax), and the
/// sum back to a broadcast operand's shape that backward passes need.

/// What `reduce` computes over the reduced axes.
public enum ReduceKind: Sendable {
    case sum, mean, max
}

/// The reduction of `x` over `axes` (normalised, sorted, unique), keeping them as size-1 axes
/// when `keepDims`, as ONNX's Reduce* and torch's `sum`/`mean`/`amax` with a `dim` list. An
/// empty list reduces nothing (ONNX's `noop_with_empty_axes`): for ONNX's default of all axes
/// the caller passes them all.
///
/// Sums run in an order fixed by the shape, whatever the thread count. The mean divides the
/// sum by the element count, as torch. The maximum propagates NaN, as torch's `amax`, and its
/// gradient is torch's `amax` backward: shared evenly among the elements equal to the maximum.
public func reduce(_ x: Tensor, _ kind: ReduceKind, axes: [Int], keepDims: Bool) -> Tensor {
    traced(.reduce(kind, axes: axes, keepDims: keepDims), [x]) { untracedReduce(x, kind, axes: axes, keepDims: keepDims) }
}

private func untracedReduce(_ x: Tensor, _ kind: ReduceKind, axes: [Int], keepDims: Bool) -> Tensor {
    precondition(axes == Array(Set(axes)).sorted() && axes.allSatisfy { $0 >= 0 && $0 < x.rank },
                 "reduce: axes \(axes) must be sorted, unique and within the rank of \(x.shape)")
    let reduced = Set(axes)
    let keptShape = x.shape.indices.map { reduced.contains($0) ? 1 : x.shape[$0] }
    let outShape = keepDims ? keptShape : x.shape.indices.filter { !reduced.contains($0) }.map { x.shape[$0] }
    let count = axes.map { x.shape[$0] }.product
    let out: Tensor
    switch kind {
    case .sum:
        out = Tensor(shape: outShape, scalars: reducedValue(x, over: reduced, SumReduction.self))
    case .mean:
        let sums = reducedValue(x, over: reduced, SumReduction.self)
        out = Tensor(shape: outShape, scalars: sums.map { $0 / Float(count) })
    case .max:
        precondition(x.count > 0 || outShape.product == 0, "reduce: maximum over no elements of \(x.shape)")
        out = Tensor(shape: outShape, scalars: reducedValue(x, over: reduced, MaxReduction.self))
    }
    let maxima = out.detached()
    return Tensor.record(out, op: "\(kind)", inputs: [x]) { g, _ in
        let g = g.reshaped(keptShape).detached()
        switch kind {
        case .sum: return [broadcastValue(g, to: x.shape)]
        case .mean: return [broadcastValue(g / Tensor(shape: [], scalars: [Float(count)]), to: x.shape)]
        case .max:
            // (g / ties) · [x == max], multiplied rather than selected so that a NaN maximum
            // (no element equals it) gives NaN gradients, as torch's.
            let m = broadcastValue(maxima.reshaped(keptShape), to: x.shape).scalars
            let isMax = Tensor(shape: x.shape) { d in x.withScalars { px in for i in 0..<d.count { d[i] = px[i] == m[i] ? 1 : 0 } } }
            let ties = Tensor(shape: keptShape, scalars: reducedValue(isMax, over: reduced, SumReduction.self))
            return [broadcastValue(g / ties, to: x.shape) * isMax]
        }
    }
}

extension Tensor {
    /// Sum along `axis` (negative counts from the end), dropping it unless `keepDims`.
    public func sum(axis: Int, keepDims: Bool = false) -> Tensor {
        CAMKit.reduce(self, .sum, axes: [normalizedAxis(axis, rank: rank, "sum of \(shape)")], keepDims: keepDims)
    }

    /// Mean along `axis` (negative counts from the end), dropping it unless `keepDims`.
    public func mean(axis: Int, keepDims: Bool = false) -> Tensor {
        CAMKit.reduce(self, .mean, axes: [normalizedAxis(axis, rank: rank, "mean of \(shape)")], keepDims: keepDims)
    }

    /// Sums this tensor down to `shape`, undoing a broadcast (used by backward passes; not recorded).
    public func sum(toShape target: [Int]) -> Tensor {
        if shape == target { return self }
        precondition(rank >= target.count, "cannot reduce \(shape) to \(target)")
        let padded = [Int](repeating: 1, count: rank - target.count) + target
        precondition(broadcastShape(padded, shape) == shape, "cannot reduce \(shape) to \(target)")
        let axes = Set(shape.indices.filter { padded[$0] == 1 })
        return Tensor(shape: target, scalars: reducedValue(self, over: axes, SumReduction.self))
    }
}

/// How one reduction combines elements: along a contiguous run, and into accumulators.
private protocol Reduction {
    static var identity: Float { get }
    static func combine(_ accumulator: Float, _ x: Float) -> Float
    static func combine(_ accumulator: FloatVector, _ x: FloatVector) -> FloatVector
    static func reduce(_ p: UnsafePointer<Float>, _ n: Int) -> Float
}

extension Reduction {
    /// `dst[i] = combine(dst[i], src[i])` for `n` elements.
    @inline(__always) static func combine(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, _ n: Int) {
        var i = 0
        while i + vectorWidth <= n { dst.storeVector(combine(dst.loadVector(i), src.loadVector(i)), i); i += vectorWidth }
        while i < n { dst[i] = combine(dst[i], src[i]); i += 1 }
    }
}

private enum SumReduction: Reduction {
    static var identity: Float { 0 }
    @inline(__always) static func combine(_ accumulator: Float, _ x: Float) -> Float { accumulator + x }
    @inline(__always) static func combine(_ accumulator: FloatVector, _ x: FloatVector) -> FloatVector { accumulator + x }
    @inline(__always) static func reduce(_ p: UnsafePointer<Float>, _ n: Int) -> Float { Float(sumVectors(p, n)) }
}

private enum MaxReduction: Reduction {
    static var identity: Float { -.infinity }
    @inline(__always) static func combine(_ accumulator: Float, _ x: Float) -> Float {
        x > accumulator || x.isNaN ? x : accumulator
    }
    @inline(__always) static func combine(_ accumulator: FloatVector, _ x: FloatVector) -> FloatVector {
        accumulator.replacing(with: x, where: (x .> accumulator) .| (x .!= x))
    }
    @inline(__always) static func reduce(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
        var best = FloatVector(repeating: -.infinity)
        var i = 0
        while i + vectorWidth <= n { best = combine(best, p.loadVector(i)); i += vectorWidth }
        var result = any(best .!= best) ? Float.nan : best.max()
        while i < n { result = combine(result, p[i]); i += 1 }
        return result
    }
}

/// `R` over the axes in `reduced`, in the row-major order of the kept axes.
///
/// The kept shape broadcast back to x's is the layout: (N,C,H,W) over H,W merges to (N·C kept,
/// H·W reduced), one contiguous reduction per output; (N,C,H,W) to (1,C,1,1) to (N reduced,
/// C kept, H·W reduced). Each row of the innermost run is reduced into its output (or combined
/// element by element when that run is kept), rows in order. When the outermost run is kept,
/// its ranges go to different threads, each owning its outputs, so results do not depend on
/// the thread count.
private func reducedValue<R: Reduction>(_ x: Tensor, over reduced: Set<Int>, _: R.Type) -> [Float] {
    let kept = x.shape.indices.map { reduced.contains($0) ? 1 : x.shape[$0] }
    var out = [Float](repeating: R.identity, count: kept.product)
    guard x.count > 0 else { return out }
    let layout = BroadcastLayout(output: x.shape, operands: [kept])
    let inner = layout.inner, innerReduced = layout.innerStrides[0] == 0
    // Rows per index of the outermost run, which threads may split when it is kept.
    let leadingKept = layout.sizes.count > 1 && layout.strides[0][0] != 0
    let (leading, rowsPerLeading) = leadingKept ? (layout.sizes[0], x.count / inner / layout.sizes[0]) : (1, x.count / inner)
    out.withUnsafeMutableBufferPointer { out in
        let dst = out.baseAddress!
        x.withScalars { src in
            parallelChunks(leading, grain: max(1, 131_072 / (rowsPerLeading * inner))) { range in
                var walk = layout.rows(startingAt: range.lowerBound * rowsPerLeading)
                for row in range.lowerBound * rowsPerLeading ..< range.upperBound * rowsPerLeading {
                    let s = src + row * inner, o = dst + walk.offsets[0]
                    if innerReduced { o[0] = R.combine(o[0], R.reduce(s, inner)) } else { R.combine(s, into: o, inner) }
                    walk.advance()
                }
            }
        }
    }
    return out
}

/// `dst[i] += src[i]` for `n` elements.
@inline(__always) func addRow(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, _ n: Int) {
    for i in 0..<n { dst[i] += src[i] }
}
