/// N-D padding (ONNX Pad). The NCHW zero padding of the native models is `zeroPad2d`.

/// What `pad` puts in the new elements.
public enum PadMode: Equatable, Sendable {
    /// One value everywhere (ONNX "constant", torch "constant").
    case constant(Float)
    /// The input mirrored about its edge element, which is not repeated (ONNX and torch
    /// "reflect"); each pad must be smaller than its axis.
    case reflect
    /// The edge element repeated (ONNX "edge", torch "replicate").
    case edge
}

/// `x` with `before[d]` and `after[d]` elements added along each axis d (ONNX Pad after the
/// importer has turned its pads and axes into one pair per axis).
///
/// Negative amounts crop, as ONNX allows. The crop comes first and reflect and edge then pad
/// about the cropped edges, as onnxruntime does. The gradient of a padded element goes to the
/// input element it copies, so reflect and edge add several into the elements near the edges.
public func pad(_ x: Tensor, before: [Int], after: [Int], mode: PadMode) -> Tensor {
    precondition(x.rank >= 1 && before.count == x.rank && after.count == x.rank,
                 "pad: one pair of pads per axis of \(x.shape), got \(before) and \(after)")
    let axes = (0..<x.rank).map { PadAxis(size: x.shape[$0], before: before[$0], after: after[$0], mode: mode, axis: $0) }
    let shape = axes.map(\.sources.count)
    let inputStrides = denseStrides(x.shape)
    let last = axes[x.rank - 1], inner = shape[x.rank - 1]
    let fill: Float
    if case .constant(let value) = mode { fill = value } else { fill = 0 }

    /// Calls `body(row, source)` for every output row (every axis but the last), with the
    /// offset of the input row it copies from, or nil where an outer axis is padding.
    func forEachRow(_ body: (Int, Int?) -> Void) {
        guard inner > 0 else { return }
        // Row offsets along the outer axes, -1 where that axis is padding.
        let outer = (0..<(x.rank - 1)).map { d in axes[d].sources.map { $0 < 0 ? -1 : $0 * inputStrides[d] } }
        var walk = StridedWalk(sizes: Array(shape.dropLast()), strides: [])
        for row in 0..<shape.product / inner {
            var offset = 0, inside = true
            for (d, offsets) in outer.enumerated() {
                let o = offsets[walk.index[d]]
                inside = inside && o >= 0
                offset += o
            }
            body(row, inside ? offset : nil)
            walk.advance()
        }
    }

    let out = Tensor(shape: shape) { out in
        guard let dst = out.baseAddress else { return }
        x.withScalars { src in
            forEachRow { row, offset in
                let d = dst + row * inner
                guard let offset else { d.update(repeating: fill, count: inner); return }
                // The copied middle in one go, the padded ends from the index map.
                (d + last.lead).update(from: src + offset + last.low, count: last.kept)
                func fillEnd(_ range: Range<Int>) {
                    for o in range { let s = last.sources[o]; d[o] = s >= 0 ? src[offset + s] : fill }
                }
                fillEnd(0..<last.lead)
                fillEnd((last.lead + last.kept)..<inner)
            }
        }
    }
    return Tensor.record(out, op: "pad", inputs: [x]) { g, _ in
        [Tensor(shape: x.shape) { gx in
            gx.initialize(repeating: 0)
            guard let dst = gx.baseAddress else { return }
            g.withScalars { src in
                forEachRow { row, offset in
                    guard let offset else { return }
                    let r = src + row * inner
                    for (o, s) in last.sources.enumerated() where s >= 0 { dst[offset + s] += r[o] }
                }
            }
        }]
    }
}

/// One axis of a padding: which input index each output index copies.
private struct PadAxis {
    /// For each output index, the input index it copies, or -1 for the constant.
    let sources: [Int]
    /// Output indices before the copied run, the first input index copied, and the run's length.
    let lead: Int, low: Int, kept: Int

    init(size: Int, before: Int, after: Int, mode: PadMode, axis: Int) {
        let (lead, low, kept) = (max(0, before), max(0, -before), size - max(0, -before) - max(0, -after))
        precondition(kept >= 0, "pad: cropping \(-before) and \(-after) from axis \(axis) of size \(size)")
        switch mode {
        case .constant: break
        case .edge:
            precondition(kept > 0 || max(before, after) <= 0, "pad: edge padding of an empty axis \(axis)")
        case .reflect:
            precondition(max(before, after) < max(kept, 1),
                         "pad: reflect pads \(before), \(after) must be smaller than axis \(axis) (\(kept) after cropping)")
        }
        sources = (0..<(lead + kept + max(0, after))).map { o in
            let j = o - lead
            if j >= 0 && j < kept { return low + j }
            switch mode {
            case .constant: return -1
            case .edge: return low + min(max(j, 0), kept - 1)
            case .reflect: return low + (j < 0 ? -j : 2 * (kept - 1) - j)
            }
        }
        (self.lead, self.low, self.kept) = (lead, low, kept)
    }
}
