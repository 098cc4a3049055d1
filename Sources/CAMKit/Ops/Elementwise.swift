import Foundation

/// Binary elementwise ops with NumPy (and ONNX multidirectional) broadcasting.

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

/// Operands laid out against the shape they broadcast to, with size-1 output axes dropped and
/// adjacent axes merged wherever every operand is full along both or broadcast along both.
/// The common cases collapse to one or two axes: same shapes and a scalar operand to (n),
/// (N,C,H,W) op (N,C,1,1) to (N·C, H·W) with the second operand constant along rows, and
/// (…,C) op (C) to (R, C) with the second operand the same row each time. Kernels then walk the
/// rows of the innermost merged axis, along which each operand is contiguous or constant.
struct BroadcastLayout {
    /// The merged output axes; at least one.
    let sizes: [Int]
    /// For each operand and merged axis, the element stride: 0 where the operand is broadcast.
    let strides: [[Int]]

    init(output: [Int], operands: [[Int]]) {
        let padded = operands.map { [Int](repeating: 1, count: output.count - $0.count) + $0 }
        var sizes: [Int] = [], full: [[Bool]] = []
        for d in output.indices where output[d] != 1 {
            let pattern = padded.map { $0[d] != 1 }
            if pattern == full.last { sizes[sizes.count - 1] *= output[d] } else { sizes.append(output[d]); full.append(pattern) }
        }
        if sizes.isEmpty { (sizes, full) = ([1], [operands.map { _ in false }]) }
        self.sizes = sizes
        strides = operands.indices.map { k in
            var strides = [Int](repeating: 0, count: sizes.count), step = 1
            for g in stride(from: sizes.count - 1, through: 0, by: -1) where full[g][k] {
                strides[g] = step
                step *= sizes[g]
            }
            return strides
        }
    }

    /// Elements along the innermost merged axis.
    var inner: Int { sizes[sizes.count - 1] }
    /// Each operand's stride along the innermost merged axis: 1, or 0 where it is constant.
    var innerStrides: [Int] { strides.map { $0[$0.count - 1] } }

    /// The rows (every merged axis but the innermost) from row `position` on.
    func rows(startingAt position: Int) -> StridedWalk {
        StridedWalk(sizes: Array(sizes.dropLast()), strides: strides.map { Array($0.dropLast()) }, startingAt: position)
    }

    /// Calls `body(rows, walk)` on ranges of rows, over the cores when there are many elements;
    /// `walk` starts at the range's first row.
    func forEachRowRange(_ body: (Range<Int>, inout StridedWalk) -> Void) {
        let rows = sizes.dropLast().product
        parallelChunks(rows, grain: max(1, 32768 / max(inner, 1))) { range in
            var walk = self.rows(startingAt: range.lowerBound)
            body(range, &walk)
        }
    }
}

/// `dst[j] = K(a[j·sa], b[j·sb])` for `n` elements, each stride 1 or 0 (a constant operand).
@inline(__always)
private func applyRow<K: BinaryVectorKernel>(_: K.Type, _ a: UnsafePointer<Float>, _ sa: Int,
                                             _ b: UnsafePointer<Float>, _ sb: Int,
                                             _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
    var i = 0
    switch (sa, sb) {
    case (1, 1):
        while i + vectorWidth <= n { dst.storeVector(K.apply(a.loadVector(i), b.loadVector(i)), i); i += vectorWidth }
        if i < n { storePartial(K.apply(loadPartial(a + i, n - i), loadPartial(b + i, n - i)), dst + i, n - i) }
    case (1, _):
        let vb = FloatVector(repeating: b[0])
        while i + vectorWidth <= n { dst.storeVector(K.apply(a.loadVector(i), vb), i); i += vectorWidth }
        if i < n { storePartial(K.apply(loadPartial(a + i, n - i), vb), dst + i, n - i) }
    case (_, 1):
        let va = FloatVector(repeating: a[0])
        while i + vectorWidth <= n { dst.storeVector(K.apply(va, b.loadVector(i)), i); i += vectorWidth }
        if i < n { storePartial(K.apply(va, loadPartial(b + i, n - i)), dst + i, n - i) }
    default:
        dst.update(repeating: K.apply(FloatVector(repeating: a[0]), FloatVector(repeating: b[0]))[0], count: n)
    }
}

/// `K.apply` on every pair of broadcast elements, over both cores when the output is large.
func broadcastMap<K: BinaryVectorKernel>(_ a: Tensor, _ b: Tensor, _: K.Type) -> Tensor {
    guard let shape = broadcastShape(a.shape, b.shape) else {
        preconditionFailure("shapes \(a.shape) and \(b.shape) do not broadcast")
    }
    let layout = BroadcastLayout(output: shape, operands: [a.shape, b.shape])
    let inner = layout.inner, strides = layout.innerStrides
    let (sa, sb) = (strides[0], strides[1])
    return Tensor(shape: shape) { out in
        guard let dst = out.baseAddress else { return }
        a.withScalars { pa in b.withScalars { pb in
            if inner == out.count {
                parallelVectorRanges(inner) { start, end in
                    applyRow(K.self, pa + start * sa, sa, pb + start * sb, sb, dst + start, end - start)
                }
                return
            }
            layout.forEachRowRange { rows, walk in
                for row in rows {
                    applyRow(K.self, pa + walk.offsets[0], sa, pb + walk.offsets[1], sb, dst + row * inner, inner)
                    walk.advance()
                }
            }
        } }
    }
}

/// `x` repeated along the axes where it is broadcast to `shape`.
func broadcastValue(_ x: Tensor, to shape: [Int]) -> Tensor {
    if x.shape == shape { return x.detached() }
    precondition(broadcastShape(x.shape, shape) == shape, "cannot broadcast \(x.shape) to \(shape)")
    let layout = BroadcastLayout(output: shape, operands: [x.shape])
    let inner = layout.inner, contiguous = layout.innerStrides[0] == 1
    return Tensor(shape: shape) { out in
        guard let dst = out.baseAddress else { return }
        x.withScalars { src in
            layout.forEachRowRange { rows, walk in
                for row in rows {
                    let s = src + walk.offsets[0], d = dst + row * inner
                    if contiguous { d.update(from: s, count: inner) } else { d.update(repeating: s[0], count: inner) }
                    walk.advance()
                }
            }
        }
    }
}

enum AddKernel: BinaryVectorKernel {
    @inline(__always) static func apply(_ a: FloatVector, _ b: FloatVector) -> FloatVector { a + b }
}

enum SubtractKernel: BinaryVectorKernel {
    @inline(__always) static func apply(_ a: FloatVector, _ b: FloatVector) -> FloatVector { a - b }
}

enum MultiplyKernel: BinaryVectorKernel {
    @inline(__always) static func apply(_ a: FloatVector, _ b: FloatVector) -> FloatVector { a * b }
}

enum DivideKernel: BinaryVectorKernel {
    @inline(__always) static func apply(_ a: FloatVector, _ b: FloatVector) -> FloatVector { a / b }
}

/// powf lane by lane: exp(b · log a) in float loses accuracy as |b · log a| grows.
private enum PowerKernel: BinaryVectorKernel {
    @inline(__always) static func apply(_ a: FloatVector, _ b: FloatVector) -> FloatVector {
        var r = FloatVector()
        for i in 0..<vectorWidth { r[i] = Foundation.pow(a[i], b[i]) }
        return r
    }
}

private enum SquareKernel: UnaryVectorKernel {
    @inline(__always) static func apply(_ x: FloatVector) -> FloatVector { x * x }
}

private enum CubeKernel: UnaryVectorKernel {
    @inline(__always) static func apply(_ x: FloatVector) -> FloatVector { x * x * x }
}

extension Tensor {
    public static func + (a: Tensor, b: Tensor) -> Tensor {
        traced(.binary(.add), [a, b]) { untracedAdd(a, b) }
    }

    private static func untracedAdd(_ a: Tensor, _ b: Tensor) -> Tensor {
        let out = broadcastMap(a, b, AddKernel.self)
        return record(out, op: "add", inputs: [a, b]) { g, needs in
            [needs[0] ? g.sum(toShape: a.shape) : nil, needs[1] ? g.sum(toShape: b.shape) : nil]
        }
    }

    public static func - (a: Tensor, b: Tensor) -> Tensor {
        traced(.binary(.sub), [a, b]) { untracedSub(a, b) }
    }

    private static func untracedSub(_ a: Tensor, _ b: Tensor) -> Tensor {
        let out = broadcastMap(a, b, SubtractKernel.self)
        return record(out, op: "sub", inputs: [a, b]) { g, needs in
            [needs[0] ? g.sum(toShape: a.shape) : nil, needs[1] ? (-g).sum(toShape: b.shape) : nil]
        }
    }

    public static func * (a: Tensor, b: Tensor) -> Tensor {
        traced(.binary(.mul), [a, b]) { untracedMul(a, b) }
    }

    private static func untracedMul(_ a: Tensor, _ b: Tensor) -> Tensor {
        let out = broadcastMap(a, b, MultiplyKernel.self)
        return record(out, op: "mul", inputs: [a, b]) { g, needs in
            [needs[0] ? (g.detached() * b.detached()).sum(toShape: a.shape) : nil,
             needs[1] ? (g.detached() * a.detached()).sum(toShape: b.shape) : nil]
        }
    }

    /// Its gradients are torch's: g / b, and -g · (a / b) / b (the output divided by b once more).
    public static func / (a: Tensor, b: Tensor) -> Tensor {
        let out = broadcastMap(a, b, DivideKernel.self)
        let quotient = out.detached()
        return record(out, op: "div", inputs: [a, b]) { g, needs in
            [needs[0] ? (g.detached() / b.detached()).sum(toShape: a.shape) : nil,
             needs[1] ? (-(g.detached() * (quotient / b.detached()))).sum(toShape: b.shape) : nil]
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

/// `a` to the power `b`, broadcast (ONNX Pow). A scalar exponent of 2 or 3 is computed as
/// x·x (·x) and 0.5 as a square root, as torch does; other exponents by powf.
///
/// Gradients as torch's: b·a^(b−1) to a (0 where b == 0), and a^b·log(a) to b (0 where a == 0
/// and b ≥ 0; NaN for negative a, where the power is not differentiable in b).
public func pow(_ a: Tensor, _ b: Tensor) -> Tensor {
    let out: Tensor
    // A scalar that broadcasts to a's shape.
    switch b.count == 1 && b.rank <= a.rank ? b.scalars[0] : nil {
    case 2?: out = mapElements(a, SquareKernel.self)
    case 3?: out = mapElements(a, CubeKernel.self)
    case 0.5?: out = mapElements(a, SquareRootKernel.self)
    default: out = broadcastMap(a, b, PowerKernel.self)
    }
    let power = out.detached()
    return Tensor.record(out, op: "pow", inputs: [a, b]) { g, needs in
        let shape = power.shape
        let base = broadcastValue(a, to: shape).scalars, exponent = broadcastValue(b, to: shape).scalars
        var grads: [Tensor?] = [nil, nil]
        g.withScalars { pg in power.withScalars { py in
            if needs[0] {
                grads[0] = Tensor(shape: shape) { d in
                    for i in 0..<d.count {
                        let e = exponent[i]
                        d[i] = e == 0 ? 0 : pg[i] * (e * Foundation.pow(base[i], e - 1))
                    }
                }.sum(toShape: a.shape)
            }
            if needs[1] {
                grads[1] = Tensor(shape: shape) { d in
                    for i in 0..<d.count {
                        d[i] = pg[i] * (base[i] == 0 && exponent[i] >= 0 ? 0 : py[i] * Foundation.log(base[i]))
                    }
                }.sum(toShape: b.shape)
            }
        } }
        return grads
    }
}
