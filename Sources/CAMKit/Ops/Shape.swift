/// Reshape, permute and concatenate.

/// `axis` counted from the end when negative, checked against `rank`.
func normalizedAxis(_ axis: Int, rank: Int, _ what: String) -> Int {
    let a = axis < 0 ? axis + rank : axis
    precondition(a >= 0 && a < rank, "\(what): axis \(axis) out of range for rank \(rank)")
    return a
}

extension Tensor {
    /// The same elements under another shape; one dimension may be -1 and is inferred.
    /// The elements are a copy-on-write array, so nothing mutable is shared.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        traced(.reshape(newShape), [self]) { untracedReshaped(newShape) }
    }

    private func untracedReshaped(_ newShape: [Int]) -> Tensor {
        var resolved = newShape
        if let i = newShape.firstIndex(of: -1) {
            let known = newShape.enumerated().filter { $0.offset != i }.map(\.element).product
            precondition(newShape.filter { $0 == -1 }.count == 1 && known > 0 && count % known == 0,
                         "cannot reshape \(shape) to \(newShape)")
            resolved[i] = count / known
        }
        precondition(resolved.product == count && resolved.allSatisfy { $0 >= 0 },
                     "cannot reshape \(shape) to \(newShape)")
        let out = Tensor(shape: resolved, scalars: scalars)
        let original = shape
        return Tensor.record(out, op: "reshape", inputs: [self]) { g, _ in
            [Tensor(shape: original, scalars: g.scalars)]
        }
    }

    /// Axes reordered: output axis `i` is input axis `dims[i]`, as `torch.permute`.
    public func permuted(_ dims: [Int]) -> Tensor {
        traced(.transpose(dims.map { normalizedAxis($0, rank: rank, "permuted \(shape) by \(dims)") }), [self]) {
            untracedPermuted(dims)
        }
    }

    private func untracedPermuted(_ dims: [Int]) -> Tensor {
        let dims = dims.map { normalizedAxis($0, rank: rank, "permuted \(shape) by \(dims)") }
        precondition(dims.count == rank && Set(dims).count == rank, "permuted: \(dims) is not a permutation of the axes of \(shape)")
        let out = permute(self, dims)
        var inverse = [Int](repeating: 0, count: rank)
        for (i, d) in dims.enumerated() { inverse[d] = i }
        return Tensor.record(out, op: "permute", inputs: [self]) { g, _ in [permute(g, inverse)] }
    }
}

/// Copies `x` with its axes reordered. Axes that stay adjacent and in order are merged first,
/// so a permutation becomes a batch of 2-D transposes (NCHW <-> NHWC) or of contiguous copies.
private func permute(_ x: Tensor, _ dims: [Int]) -> Tensor {
    let outShape = dims.map { x.shape[$0] }
    // Merge runs of input axes that appear consecutively in `dims`, dropping size-1 axes.
    var groups: [[Int]] = []
    for d in dims where x.shape[d] != 1 {
        if let last = groups.last?.last, last + 1 == d { groups[groups.count - 1].append(d) } else { groups.append([d]) }
    }
    let inputStrides = denseStrides(x.shape)
    let sizes = groups.map { $0.map { x.shape[$0] }.product }
    let strides = groups.map { inputStrides[$0.last!] }
    return Tensor(shape: outShape) { out in
        guard let dst = out.baseAddress else { return }
        x.withScalars { src in
            let rank = sizes.count
            if rank <= 1 { dst.update(from: src, count: out.count); return }
            let inner = sizes[rank - 1], innerStride = strides[rank - 1]
            let outerCount = out.count / inner
            if innerStride == 1 {
                var walk = StridedWalk(sizes: Array(sizes.dropLast()), strides: [Array(strides.dropLast())])
                for o in 0..<outerCount {
                    (dst + o * inner).update(from: src + walk.offsets[0], count: inner)
                    walk.advance()
                }
                return
            }
            // The innermost output axis is strided in the input: transpose tile by tile so that
            // both reads and writes touch whole cache lines.
            let rows = sizes[rank - 2], rowStride = strides[rank - 2]
            let tile = 16
            let planes = outerCount / rows
            var walk = StridedWalk(sizes: Array(sizes.dropLast(2)), strides: [Array(strides.dropLast(2))])
            for p in 0..<planes {
                let d = dst + p * rows * inner, base = walk.offsets[0]
                for r0 in stride(from: 0, to: rows, by: tile) {
                    let r1 = min(r0 + tile, rows)
                    for c0 in stride(from: 0, to: inner, by: tile) {
                        let c1 = min(c0 + tile, inner)
                        for r in r0..<r1 {
                            let s = src + base + r * rowStride
                            for c in c0..<c1 { d[r * inner + c] = s[c * innerStride] }
                        }
                    }
                }
                walk.advance()
            }
        }
    }
}

/// Joins tensors along `axis` (negative counts from the end); all other dimensions must agree.
public func concat(_ xs: [Tensor], axis: Int) -> Tensor {
    traced(.concat(axis: normalizedAxis(axis, rank: xs.first?.rank ?? 0, "concat of \(xs.map(\.shape))")), xs) {
        untracedConcat(xs, axis: axis)
    }
}

private func untracedConcat(_ xs: [Tensor], axis: Int) -> Tensor {
    precondition(!xs.isEmpty, "concat of no tensors")
    let first = xs[0].shape
    let axis = normalizedAxis(axis, rank: first.count, "concat of \(xs.map(\.shape))")
    for x in xs {
        precondition(x.rank == first.count && x.shape.enumerated().allSatisfy { $0.offset == axis || $0.element == first[$0.offset] },
                     "concat along axis \(axis): shapes \(xs.map(\.shape)) differ off that axis")
    }
    let outer = Array(first[..<axis]).product, inner = Array(first[(axis + 1)...]).product
    let blocks = xs.map { $0.shape[axis] * inner }
    let total = blocks.reduce(0, +)
    var shape = first
    shape[axis] = xs.map { $0.shape[axis] }.reduce(0, +)
    let out = Tensor(shape: shape) { out in
        guard let dst = out.baseAddress else { return }
        var offset = 0
        for (x, block) in zip(xs, blocks) {
            x.withScalars { src in
                for o in 0..<outer { (dst + o * total + offset).update(from: src + o * block, count: block) }
            }
            offset += block
        }
    }
    return Tensor.record(out, op: "concat", inputs: xs) { g, needs in
        var offset = 0
        return xs.indices.map { i -> Tensor? in
            let (x, block) = (xs[i], blocks[i])
            defer { offset += block }
            guard needs[i] else { return nil }
            let start = offset
            return Tensor(shape: x.shape) { piece in
                guard let dst = piece.baseAddress else { return }
                g.withScalars { src in
                    for o in 0..<outer { (dst + o * block).update(from: src + o * total + start, count: block) }
                }
            }
        }
    }
}

/// Zero rows and columns around the spatial dimensions of an NCHW tensor, as `F.pad` with
/// zeros or Keras `ZeroPadding2D`. Its gradient is the inner window of the output gradient.
public func zeroPad2d(_ x: Tensor, _ p: Padding2D) -> Tensor {
    traced(.pad(before: [0, 0, p.top, p.left], after: [0, 0, p.bottom, p.right], mode: .constant(0)), [x]) {
        untracedZeroPad2d(x, p)
    }
}

private func untracedZeroPad2d(_ x: Tensor, _ p: Padding2D) -> Tensor {
    precondition(x.rank == 4, "zeroPad2d: input must be NCHW, got \(x.shape)")
    precondition(min(p.top, p.bottom, p.left, p.right) >= 0, "zeroPad2d: negative padding \(p)")
    if p == .symmetric(0) { return x }
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let oh = h + p.top + p.bottom, ow = w + p.left + p.right
    let out = Tensor(shape: [n, c, oh, ow]) { o in
        o.initialize(repeating: 0)
        x.withScalars { src in
            for plane in 0..<(n * c) {
                for y in 0..<h {
                    let from = src + plane * h * w + y * w
                    let to = o.baseAddress! + plane * oh * ow + (y + p.top) * ow + p.left
                    to.update(from: from, count: w)
                }
            }
        }
    }
    return Tensor.record(out, op: "zeroPad2d", inputs: [x]) { g, _ in
        [Tensor(shape: [n, c, h, w]) { gi in
            g.withScalars { src in
                for plane in 0..<(n * c) {
                    for y in 0..<h {
                        (gi.baseAddress! + plane * h * w + y * w)
                            .update(from: src + plane * oh * ow + (y + p.top) * ow + p.left, count: w)
                    }
                }
            }
        }]
    }
}
