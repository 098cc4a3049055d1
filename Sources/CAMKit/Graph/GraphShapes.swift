/// Shape inference: the output shape of each op from its input shapes, or the reason they do
/// not fit. A graph is checked this way before it runs, so that a model whose dimensions
/// disagree is an error naming the node, never a trap inside a kernel.
public struct GraphShapeError: Error, CustomStringConvertible {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

extension GraphOp {
    /// How many inputs the op takes: a fixed count, or a range for optional ones.
    var arity: ClosedRange<Int> {
        switch self {
        case .conv2d, .linear: return 2...3
        case .matmul, .binary, .select: return 2...2
        case .batchNorm: return 5...5
        case .layerNorm, .layerNorm2d: return 1...3
        case .globalResponseNorm: return 3...3
        case .concat: return 1...Int.max
        default: return 1...1
        }
    }

    public func outputShape(_ s: [[Int]]) throws -> [Int] {
        guard arity.contains(s.count) else { throw GraphShapeError("\(name) takes \(arity) inputs, got \(s.count)") }
        let x = s[0]
        switch self {
        case .conv2d(let a):
            return try a.outputShape(input: x, weight: s[1], bias: s.count > 2 ? s[2] : nil)
        case .linear:
            let w = s[1]
            guard w.count == 2, let last = x.last, last == w[1] else {
                throw GraphShapeError("linear input \(x) does not fit weight \(w) (out, in)")
            }
            if s.count > 2, s[2] != [w[0]] { throw GraphShapeError("linear bias \(s[2]) does not fit weight \(w)") }
            return x.dropLast() + [w[0]]
        case .matmul:
            return try matmulShape(x, s[1])
        case .batchNorm:
            guard x.count >= 2 else { throw GraphShapeError("batch normalisation of \(x): needs (N, C, …)") }
            for p in s.dropFirst() where p.product != x[1] || p.count != 1 {
                throw GraphShapeError("batch normalisation parameter \(p) does not match the \(x[1]) channels of \(x)")
            }
            return x
        case .layerNorm(let axis, _):
            guard axis >= 0 && axis < x.count else { throw GraphShapeError("layer norm axis \(axis) for rank \(x.count)") }
            for p in s.dropFirst() where p != Array(x[axis...]) {
                throw GraphShapeError("layer norm parameter \(p) does not match the normalised shape \(Array(x[axis...]))")
            }
            return x
        case .layerNorm2d, .globalResponseNorm:
            guard x.count == 4 else { throw GraphShapeError("\(name) takes NCHW, got \(x)") }
            for p in s.dropFirst() where p.product != x[1] {
                throw GraphShapeError("\(name) parameter \(p) does not match the \(x[1]) channels of \(x)")
            }
            return x
        case .unary, .scale, .identity:
            return x
        case .binary:
            guard let out = broadcastShape(x, s[1]) else { throw GraphShapeError("shapes \(x) and \(s[1]) do not broadcast") }
            return out
        case .softmax(let axis):
            guard axis >= 0 && axis < x.count else { throw GraphShapeError("softmax axis \(axis) for rank \(x.count)") }
            return x
        case .reduce(_, let axes, let keepDims):
            guard axes.allSatisfy({ $0 >= 0 && $0 < x.count }), Set(axes).count == axes.count else {
                throw GraphShapeError("reduction axes \(axes) for rank \(x.count)")
            }
            return x.indices.compactMap { axes.contains($0) ? (keepDims ? 1 : nil) : x[$0] }
        case .globalAveragePool:
            guard x.count == 4 else { throw GraphShapeError("global average pooling takes NCHW, got \(x)") }
            return [x[0], x[1], 1, 1]
        case .adaptiveAveragePool(let h, let w):
            guard x.count == 4, h >= 1, w >= 1 else { throw GraphShapeError("adaptive pooling of \(x) to \(h)×\(w)") }
            return [x[0], x[1], h, w]
        case .averagePool(let a, _), .maxPool(let a):
            return try a.outputShape(input: x)
        case .pad(let before, let after, _):
            guard before.count == x.count, after.count == x.count else {
                throw GraphShapeError("padding \(before)/\(after) for rank \(x.count)")
            }
            let out = x.indices.map { x[$0] + before[$0] + after[$0] }
            guard out.allSatisfy({ $0 >= 0 }) else { throw GraphShapeError("padding \(before)/\(after) crops \(x) below zero") }
            return out
        case .reshape(let target):
            return try reshapeShape(x, target)
        case .transpose(let p):
            guard p.count == x.count, Set(p) == Set(x.indices) else {
                throw GraphShapeError("transpose permutation \(p) for rank \(x.count)")
            }
            return p.map { x[$0] }
        case .concat(let axis):
            guard axis >= 0 && axis < x.count else { throw GraphShapeError("concat axis \(axis) for rank \(x.count)") }
            for other in s where other.count != x.count || other.indices.contains(where: { $0 != axis && other[$0] != x[$0] }) {
                throw GraphShapeError("concat along axis \(axis) of shapes \(s) that differ off that axis")
            }
            var out = x
            out[axis] = s.map { $0[axis] }.reduce(0, +)
            return out
        case .slice(let starts, let ends, let steps):
            guard starts.count == x.count, ends.count == x.count, steps.count == x.count, !steps.contains(0) else {
                throw GraphShapeError("slice \(starts)..<\(ends) by \(steps) for shape \(x)")
            }
            return x.indices.map { sliceLength(start: starts[$0], end: ends[$0], step: steps[$0], size: x[$0]) }
        case .gather(let axis, let indices, let indicesShape):
            guard axis >= 0 && axis < x.count, indices.count == indicesShape.product,
                  indices.allSatisfy({ $0 >= 0 && $0 < x[axis] }) else {
                throw GraphShapeError("gather of indices \(indices.prefix(8)) along axis \(axis) of \(x)")
            }
            return Array(x[..<axis]) + indicesShape + Array(x[(axis + 1)...])
        case .expand(let target):
            guard checkedElementCount(target) != nil, let out = broadcastShape(x, target), out == target else {
                throw GraphShapeError("cannot expand \(x) to \(target)")
            }
            return out
        case .select(let condition, let conditionShape):
            guard condition.count == conditionShape.product, let ab = broadcastShape(x, s[1]),
                  let out = broadcastShape(conditionShape, ab) else {
                throw GraphShapeError("where of condition \(conditionShape), \(x) and \(s[1]) do not broadcast")
            }
            return out
        }
    }
}

/// Elements of a clamped, normalised slice along one axis.
func sliceLength(start: Int, end: Int, step: Int, size: Int) -> Int {
    step > 0 ? max(0, (end - start + step - 1) / step) : max(0, (start - end + (-step) - 1) / (-step))
}

private func matmulShape(_ a: [Int], _ b: [Int]) throws -> [Int] {
    guard !a.isEmpty, !b.isEmpty else { throw GraphShapeError("matmul of a scalar: \(a) × \(b)") }
    let a2 = a.count == 1 ? [1] + a : a, b2 = b.count == 1 ? b + [1] : b
    guard a2[a2.count - 1] == b2[b2.count - 2] else { throw GraphShapeError("matmul inner dimensions differ: \(a) × \(b)") }
    guard let batch = broadcastShape(Array(a2.dropLast(2)), Array(b2.dropLast(2))) else {
        throw GraphShapeError("matmul batch dimensions of \(a) and \(b) do not broadcast")
    }
    return batch + (a.count == 1 ? [] : [a2[a2.count - 2]]) + (b.count == 1 ? [] : [b2[b2.count - 1]])
}

/// The element count of `shape`, or nil when it overflows or passes `limit`: shapes from a
/// file are checked with this before anything multiplies them.
public func checkedElementCount(_ shape: [Int], limit: Int = Int.max) -> Int? {
    var count = 1
    for d in shape {
        guard d >= 0 else { return nil }
        let (product, overflow) = count.multipliedReportingOverflow(by: d)
        guard !overflow, product <= limit else { return nil }
        count = product
    }
    return count
}

private func reshapeShape(_ x: [Int], _ target: [Int]) throws -> [Int] {
    var out = GraphOp.resolvedReshape(target, of: x)
    let unknown = out.indices.filter { out[$0] == -1 }
    guard unknown.count <= 1, out.allSatisfy({ $0 >= -1 }),
          checkedElementCount(out.filter { $0 != -1 }, limit: 1 << 40) != nil else {
        throw GraphShapeError("reshape of \(x) to \(target)")
    }
    if let i = unknown.first {
        let known = out.enumerated().filter { $0.offset != i }.map(\.element).product
        guard known > 0, x.product % known == 0 else { throw GraphShapeError("cannot reshape \(x) to \(target)") }
        out[i] = x.product / known
    }
    guard out.product == x.product else { throw GraphShapeError("cannot reshape \(x) (\(x.product) elements) to \(target)") }
    return out
}

extension Conv2dAttributes {
    func outputShape(input x: [Int], weight w: [Int], bias: [Int]?) throws -> [Int] {
        guard x.count == 4, w.count == 4 else { throw GraphShapeError("convolution of \(x) with weight \(w): both must be 4-D") }
        guard groups >= 1, x[1] % groups == 0, w[0] % groups == 0,
              w[1].multipliedReportingOverflow(by: groups) == (x[1], false) else {
            throw GraphShapeError("convolution input \(x) has \(x[1]) channels, weight \(w) with \(groups) groups expects \(w[1] * groups)")
        }
        if let bias, bias != [w[0]] { throw GraphShapeError("convolution bias \(bias) does not fit weight \(w)") }
        guard min(strideH, strideW, dilationH, dilationW) >= 1,
              min(padding.top, padding.bottom, padding.left, padding.right) >= 0 else {
            throw GraphShapeError("convolution strides, dilations and pads must be positive")
        }
        let spanH = (w[2] - 1) * dilationH + 1, spanW = (w[3] - 1) * dilationW + 1
        let h = x[2] + padding.top + padding.bottom, wd = x[3] + padding.left + padding.right
        guard w[2] >= 1, w[3] >= 1, spanH <= h, spanW <= wd else {
            throw GraphShapeError("convolution kernel \(w) spans more than the padded input \(x)")
        }
        return [x[0], w[0], (h - spanH) / strideH + 1, (wd - spanW) / strideW + 1]
    }
}

extension PoolAttributes {
    func outputShape(input x: [Int]) throws -> [Int] {
        guard x.count == 4 else { throw GraphShapeError("pooling takes NCHW, got \(x)") }
        guard min(kernelH, kernelW, strideH, strideW, dilationH, dilationW) >= 1,
              min(padding.top, padding.bottom, padding.left, padding.right) >= 0 else {
            throw GraphShapeError("pooling kernel, strides and dilations must be positive and pads not negative")
        }
        let size = { (n: Int, k: Int, s: Int, d: Int, p0: Int, p1: Int) -> Int in
            let span = (k - 1) * d + 1, padded = n + p0 + p1
            guard padded >= span else { return 0 }
            var out = ceilMode ? (padded - span + s - 1) / s + 1 : (padded - span) / s + 1
            // A window may start in the padding only if it also covers the input (torch, ONNX).
            if ceilMode && (out - 1) * s >= n + p0 { out -= 1 }
            return out
        }
        let h = size(x[2], kernelH, strideH, dilationH, padding.top, padding.bottom)
        let w = size(x[3], kernelW, strideW, dilationW, padding.left, padding.right)
        guard h >= 1, w >= 1 else { throw GraphShapeError("pooling window \(kernelH)×\(kernelW) larger than the padded input \(x)") }
        return [x[0], x[1], h, w]
    }
}
