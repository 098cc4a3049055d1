/// Indexing ops of imported graphs: Slice, Gather, Expand and Where. The importer normalises
/// their arguments (non-negative axes and indices, clamped slice bounds) before they run.

/// ONNX Slice with one (start, end, step) per axis, bounds already clamped as ONNX clamps them:
/// for a positive step 0 ≤ start, end ≤ dim; for a negative step start ≤ dim - 1 and
/// end ≥ -1, where -1 means "through index 0". Backward scatters the gradient into zeros.
public func slice(_ x: Tensor, starts: [Int], ends: [Int], steps: [Int]) -> Tensor {
    precondition(starts.count == x.rank && ends.count == x.rank && steps.count == x.rank,
                 "slice: one start, end and step per axis of \(x.shape), got \(starts), \(ends), \(steps)")
    let inputStrides = denseStrides(x.shape)
    var shape: [Int] = [], strides: [Int] = [], base = 0
    for d in 0..<x.rank {
        let (start, end, step) = (starts[d], ends[d], steps[d])
        precondition(step != 0, "slice: step 0 along axis \(d)")
        let count = step > 0 ? max(0, (end - start + step - 1) / step) : max(0, (start - end - step - 1) / -step)
        let last = start + (count - 1) * step
        precondition(count == 0 || (0..<x.shape[d]).contains(start) && (0..<x.shape[d]).contains(last),
                     "slice: \(start)..<\(end) by \(step) leaves axis \(d) of \(x.shape)")
        shape.append(count)
        strides.append(step * inputStrides[d])
        base += count > 0 ? start * inputStrides[d] : 0
    }
    let (inner, innerStride) = (shape.last ?? 1, strides.last ?? 1)
    let rows = StridedWalk(sizes: Array(shape.dropLast()), strides: [Array(strides.dropLast())], bases: [base])
    let out = Tensor(shape: shape) { out in
        guard let dst = out.baseAddress, out.count > 0 else { return }
        x.withScalars { src in
            var walk = rows
            for row in 0..<out.count / inner {
                let s = src + walk.offsets[0], d = dst + row * inner
                if innerStride == 1 { d.update(from: s, count: inner) } else { for j in 0..<inner { d[j] = s[j * innerStride] } }
                walk.advance()
            }
        }
    }
    return Tensor.record(out, op: "slice", inputs: [x]) { g, _ in
        [Tensor(shape: x.shape) { gx in
            gx.initialize(repeating: 0)
            guard let dst = gx.baseAddress, g.count > 0 else { return }
            g.withScalars { src in
                var walk = rows
                for row in 0..<g.count / inner {
                    let s = src + row * inner, d = dst + walk.offsets[0]
                    for j in 0..<inner { d[j * innerStride] = s[j] }
                    walk.advance()
                }
            }
        }]
    }
}

/// ONNX Gather: the slices `indices` (non-negative, `indicesShape` laid out) along `axis`; the
/// output shape is x.shape[..<axis] + indicesShape + x.shape[(axis + 1)...], so a scalar index
/// (indicesShape []) drops the axis. Backward adds each slice's gradient back where it came
/// from, repeated indices summed in order.
public func gather(_ x: Tensor, axis: Int, indices: [Int], indicesShape: [Int]) -> Tensor {
    precondition(axis >= 0 && axis < x.rank, "gather: axis \(axis) out of range for \(x.shape)")
    precondition(indices.count == indicesShape.product, "gather: \(indices.count) indices for shape \(indicesShape)")
    let n = x.shape[axis]
    precondition(indices.allSatisfy { $0 >= 0 && $0 < n }, "gather: an index is outside 0..<\(n) along axis \(axis) of \(x.shape)")
    let outer = Array(x.shape[..<axis]).product, inner = Array(x.shape[(axis + 1)...]).product
    let out = Tensor(shape: Array(x.shape[..<axis]) + indicesShape + Array(x.shape[(axis + 1)...])) { out in
        guard let dst = out.baseAddress else { return }
        x.withScalars { src in
            for o in 0..<outer {
                for (k, i) in indices.enumerated() {
                    (dst + (o * indices.count + k) * inner).update(from: src + (o * n + i) * inner, count: inner)
                }
            }
        }
    }
    return Tensor.record(out, op: "gather", inputs: [x]) { g, _ in
        [Tensor(shape: x.shape) { gx in
            gx.initialize(repeating: 0)
            guard let dst = gx.baseAddress else { return }
            g.withScalars { src in
                for o in 0..<outer {
                    for (k, i) in indices.enumerated() {
                        addRow(src + (o * indices.count + k) * inner, into: dst + (o * n + i) * inner, inner)
                    }
                }
            }
        }]
    }
}

/// ONNX Expand / torch `expand`: `x` broadcast to `shape`, which must be the shape x
/// broadcasts to (ONNX's output is broadcast(x.shape, shape); the importer passes that).
public func expand(_ x: Tensor, to shape: [Int]) -> Tensor {
    Tensor.record(broadcastValue(x, to: shape), op: "expand", inputs: [x]) { g, _ in [g.sum(toShape: x.shape)] }
}

/// ONNX Where: `a` where `condition` holds, else `b`, all three broadcast together. The
/// gradient goes to a where the condition holds and to b elsewhere (torch's `where`).
public func select(_ condition: [Bool], conditionShape: [Int], _ a: Tensor, _ b: Tensor) -> Tensor {
    precondition(condition.count == conditionShape.product,
                 "select: \(condition.count) conditions for shape \(conditionShape)")
    let out = selectValue(condition, conditionShape, a, b)
    return Tensor.record(out, op: "where", inputs: [a, b]) { g, needs in
        let zero = Tensor(shape: [], scalars: [0])
        return [needs[0] ? selectValue(condition, conditionShape, g, zero).sum(toShape: a.shape) : nil,
                needs[1] ? selectValue(condition, conditionShape, zero, g).sum(toShape: b.shape) : nil]
    }
}

private func selectValue(_ condition: [Bool], _ conditionShape: [Int], _ a: Tensor, _ b: Tensor) -> Tensor {
    guard let values = broadcastShape(a.shape, b.shape), let shape = broadcastShape(conditionShape, values) else {
        preconditionFailure("select: shapes \(conditionShape), \(a.shape) and \(b.shape) do not broadcast")
    }
    let layout = BroadcastLayout(output: shape, operands: [conditionShape, a.shape, b.shape])
    let inner = layout.inner, s = layout.innerStrides
    let (sc, sa, sb) = (s[0], s[1], s[2])
    return Tensor(shape: shape) { out in
        guard let dst = out.baseAddress else { return }
        condition.withUnsafeBufferPointer { pc in a.withScalars { pa in b.withScalars { pb in
            let pc = pc.baseAddress!
            layout.forEachRowRange { rows, walk in
                for row in rows {
                    let c = pc + walk.offsets[0], x = pa + walk.offsets[1], y = pb + walk.offsets[2], d = dst + row * inner
                    for j in 0..<inner { d[j] = c[j * sc] ? x[j * sa] : y[j * sb] }
                    walk.advance()
                }
            }
        } } }
    }
}
