/// Average and max pooling over the spatial dimensions of NCHW tensors.

/// Averages each channel plane: (N, C, H, W) -> (N, C, 1, 1), the head of all three networks.
public func globalAveragePool2d(_ x: Tensor) -> Tensor {
    traced(.globalAveragePool, [x]) { untracedGlobalAveragePool2d(x) }
}

private func untracedGlobalAveragePool2d(_ x: Tensor) -> Tensor {
    precondition(x.rank == 4 && x.shape[2] * x.shape[3] > 0,
                 "globalAveragePool2d: input must be NCHW with a non-empty plane, got shape \(x.shape)")
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let plane = h * w
    let out = Tensor(shape: [n, c, 1, 1]) { out in
        x.withScalars { px in
            for i in 0..<(n * c) {
                let p = px + i * plane
                var s: Float = 0
                for k in 0..<plane { s += p[k] }
                out[i] = s / Float(plane)
            }
        }
    }
    return Tensor.record(out, op: "globalAveragePool2d", inputs: [x]) { g, _ in
        [Tensor(shape: x.shape) { gx in
            g.withScalars { pg in
                for i in 0..<(n * c) {
                    (gx.baseAddress! + i * plane).initialize(repeating: pg[i] / Float(plane), count: plane)
                }
            }
        }]
    }
}

/// The input rows (or columns) averaged into output bin `i` of `outSize` over `inSize`,
/// by PyTorch's rule: floor(i * in / out) ..< ceil((i + 1) * in / out). Bins may overlap.
private func adaptiveBin(_ i: Int, _ inSize: Int, _ outSize: Int) -> Range<Int> {
    (i * inSize / outSize)..<(((i + 1) * inSize + outSize - 1) / outSize)
}

/// Averages (N, C, H, W) into (N, C, outH, outW) bins, exactly as PyTorch's `adaptive_avg_pool2d`.
public func adaptiveAveragePool2d(_ x: Tensor, outputSize: (Int, Int)) -> Tensor {
    traced(.adaptiveAveragePool(height: outputSize.0, width: outputSize.1), [x]) {
        untracedAdaptiveAveragePool2d(x, outputSize: outputSize)
    }
}

private func untracedAdaptiveAveragePool2d(_ x: Tensor, outputSize: (Int, Int)) -> Tensor {
    precondition(x.rank == 4, "adaptiveAveragePool2d: input must be NCHW, got shape \(x.shape)")
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (oh, ow) = outputSize
    precondition(oh > 0 && ow > 0 && h > 0 && w > 0,
                 "adaptiveAveragePool2d: output size \(outputSize) and input plane of \(x.shape) must be non-empty")
    let rows = (0..<oh).map { adaptiveBin($0, h, oh) }
    let cols = (0..<ow).map { adaptiveBin($0, w, ow) }
    let out = Tensor(shape: [n, c, oh, ow]) { out in
        x.withScalars { px in
            for i in 0..<(n * c) {
                let p = px + i * h * w
                for (oy, ys) in rows.enumerated() {
                    for (ox, xs) in cols.enumerated() {
                        var s: Float = 0
                        for y in ys { for x in xs { s += p[y * w + x] } }
                        out[(i * oh + oy) * ow + ox] = s / Float(ys.count * xs.count)
                    }
                }
            }
        }
    }
    return Tensor.record(out, op: "adaptiveAveragePool2d", inputs: [x]) { g, _ in
        var gx = [Float](repeating: 0, count: x.count)
        g.withScalars { pg in
            gx.withUnsafeMutableBufferPointer { gx in
                for i in 0..<(n * c) {
                    let p = gx.baseAddress! + i * h * w
                    for (oy, ys) in rows.enumerated() {
                        for (ox, xs) in cols.enumerated() {
                            let share = pg[(i * oh + oy) * ow + ox] / Float(ys.count * xs.count)
                            for y in ys { for x in xs { p[y * w + x] += share } }
                        }
                    }
                }
            }
        }
        return [Tensor(shape: x.shape, scalars: gx)]
    }
}

/// One spatial axis of a pooling window: how many windows fit, by torch's
/// `pooling_output_shape`, and which input elements each of them reads.
private struct PoolAxis {
    let size: Int, kernel: Int, stride: Int, dilation: Int, before: Int, after: Int
    let outputs: Int

    init(size: Int, kernel: Int, stride: Int, dilation: Int, before: Int, after: Int, ceilMode: Bool) {
        precondition(kernel >= 1 && stride >= 1 && dilation >= 1 && before >= 0 && after >= 0,
                     "pooling: kernel \(kernel), stride \(stride), dilation \(dilation) and pads \(before), \(after) out of range")
        let room = size + before + after - ((kernel - 1) * dilation + 1)
        precondition(room >= 0, "pooling: a window of \(kernel) (dilation \(dilation)) is wider than \(size) padded by \(before) and \(after)")
        var outputs = (ceilMode ? room + stride - 1 : room) / stride + 1
        // In ceil mode the last window may overhang the padded input, but it must start inside
        // the input or its leading padding.
        if ceilMode && (outputs - 1) * stride >= size + before { outputs -= 1 }
        (self.size, self.kernel, self.stride, self.dilation, self.before, self.after) = (size, kernel, stride, dilation, before, after)
        self.outputs = outputs
    }

    /// The input indices of window `o`'s taps that lie inside the input, in order.
    func taps(_ o: Int) -> [Int] {
        (0..<kernel).map { o * stride - before + $0 * dilation }.filter { $0 >= 0 && $0 < size }
    }

    /// For each tap k, the windows whose tap k lies inside the input and that tap's input index
    /// for the first of them (the next window's is `stride` further).
    var windowsPerTap: [(windows: Range<Int>, first: Int)] {
        (0..<kernel).map { k in
            let offset = k * dilation - before
            let low = max(0, floorDivide(-offset + stride - 1, stride)), high = min(outputs, floorDivide(size - 1 - offset, stride) + 1)
            return (low..<max(low, high), low * stride + offset)
        }
    }
}

/// a / b rounded down, for b > 0.
private func floorDivide(_ a: Int, _ b: Int) -> Int { a >= 0 ? a / b : -((-a + b - 1) / b) }

/// Walks the windows of one output row that read tap `k` of a window row, in order: `vector`
/// gets runs of 16 windows whose taps are 16 input elements `stride` apart (for strides 1
/// and 2, while they stay inside the row), `scalar` gets the others one at a time. Both get
/// the first window and its tap's index in the input row.
@inline(__always)
private func forEachWindow(_ windows: Range<Int>, first: Int, stride: Int, rowWidth: Int,
                           vector: (_ window: Int, _ index: Int) -> Void, scalar: (_ window: Int, _ index: Int) -> Void) {
    var o = windows.lowerBound, i = first
    if stride <= 2 {
        while o + vectorWidth <= windows.upperBound && i + stride * vectorWidth <= rowWidth {
            vector(o, i)
            o += vectorWidth
            i += stride * vectorWidth
        }
    }
    while o < windows.upperBound { scalar(o, i); o += 1; i += stride }
}

/// 16 floats `stride` (1 or 2) apart from `p`, reading 16 · stride floats.
@inline(__always)
private func loadStrided(_ p: UnsafePointer<Float>, _ stride: Int) -> FloatVector {
    stride == 1 ? p.loadVector(0) : UnsafeRawPointer(p).loadUnaligned(as: SIMD32<Float>.self).evenHalf
}

/// Runs `body(plane)` for every (n, c) plane, planes spread over the cores; each plane's
/// outputs and gradients belong to one thread.
private func forEachPlane(_ planes: Int, work: Int, _ body: (Int) -> Void) {
    parallelChunks(planes, grain: max(1, 32768 / max(work, 1))) { range in for p in range { body(p) } }
}

/// Average pooling with torch's `avg_pool2d` semantics (ONNX AveragePool without dilation).
/// Each window is cut to the input padded by `padding`; with `countIncludePad` the sum is
/// divided by the cut window's area, padding included (so a ceil-mode window overhanging the
/// padding counts only its part inside), otherwise by its in-bounds elements. A window with
/// no element in bounds gives 0. Sums run over the window in row-major order, as torch's.
public func averagePool2d(_ x: Tensor, kernel: (Int, Int), stride: (Int, Int), padding: Padding2D,
                          countIncludePad: Bool, ceilMode: Bool) -> Tensor {
    precondition(x.rank == 4, "averagePool2d: input must be NCHW, got shape \(x.shape)")
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let rows = PoolAxis(size: h, kernel: kernel.0, stride: stride.0, dilation: 1, before: padding.top, after: padding.bottom, ceilMode: ceilMode)
    let cols = PoolAxis(size: w, kernel: kernel.1, stride: stride.1, dilation: 1, before: padding.left, after: padding.right, ceilMode: ceilMode)
    let (oh, ow, sw) = (rows.outputs, cols.outputs, stride.1)
    // Per window row and column, the count the divisor uses.
    func divisorCounts(_ a: PoolAxis) -> [Int] {
        (0..<a.outputs).map { o in
            let start = o * a.stride - a.before
            return countIncludePad ? min(start + a.kernel, a.size + a.after) - start : a.taps(o).count
        }
    }
    let rowTaps = (0..<oh).map(rows.taps), rowCounts = divisorCounts(rows), colCounts = divisorCounts(cols)
    let colTaps = cols.windowsPerTap
    let colEmpty = (0..<ow).map { cols.taps($0).isEmpty }
    let work = oh * ow * kernel.0 * kernel.1
    let out = Tensor(shape: [n, c, oh, ow]) { out in
        guard let dst = out.baseAddress else { return }
        x.withScalars { src in
            forEachPlane(n * c, work: work) { plane in
                let p = src + plane * h * w, q = dst + plane * oh * ow
                for oy in 0..<oh {
                    let sums = q + oy * ow
                    sums.update(repeating: 0, count: ow)
                    // Tap by tap over a row of windows: each window still adds its taps in order.
                    for iy in rowTaps[oy] {
                        let r = p + iy * w
                        for (windows, first) in colTaps {
                            forEachWindow(windows, first: first, stride: sw, rowWidth: w,
                                          vector: { ox, ix in sums.storeVector(sums.loadVector(ox) + loadStrided(r + ix, sw), ox) },
                                          scalar: { ox, ix in sums[ox] += r[ix] })
                        }
                    }
                    for ox in 0..<ow {
                        sums[ox] = rowTaps[oy].isEmpty || colEmpty[ox] ? 0 : sums[ox] / Float(rowCounts[oy] * colCounts[ox])
                    }
                }
            }
        }
    }
    return Tensor.record(out, op: "averagePool2d", inputs: [x]) { g, _ in
        [Tensor(shape: x.shape) { gx in
            gx.initialize(repeating: 0)
            guard let dst = gx.baseAddress else { return }
            g.withScalars { pg in
                forEachPlane(n * c, work: work) { plane in
                    let p = dst + plane * h * w, q = pg + plane * oh * ow
                    var shares = [Float](repeating: 0, count: ow)
                    for oy in 0..<oh {
                        for ox in 0..<ow { shares[ox] = q[oy * ow + ox] / Float(rowCounts[oy] * colCounts[ox]) }
                        for iy in rowTaps[oy] {
                            let r = p + iy * w
                            for (windows, first) in colTaps {
                                var ix = first
                                for ox in windows { r[ix] += shares[ox]; ix += sw }
                            }
                        }
                    }
                }
            }
        }]
    }
}

/// Max pooling with torch's `max_pool2d` semantics (ONNX MaxPool): padding never wins, NaN
/// does, and the gradient goes to the first maximal element of each window in row-major order
/// (torch's argmax), summed where windows overlap. A window with no element in bounds gives
/// -inf and no gradient.
public func maxPool2d(_ x: Tensor, kernel: (Int, Int), stride: (Int, Int), padding: Padding2D,
                      dilation: (Int, Int), ceilMode: Bool) -> Tensor {
    precondition(x.rank == 4, "maxPool2d: input must be NCHW, got shape \(x.shape)")
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let rows = PoolAxis(size: h, kernel: kernel.0, stride: stride.0, dilation: dilation.0, before: padding.top, after: padding.bottom, ceilMode: ceilMode)
    let cols = PoolAxis(size: w, kernel: kernel.1, stride: stride.1, dilation: dilation.1, before: padding.left, after: padding.right, ceilMode: ceilMode)
    let (oh, ow, sw) = (rows.outputs, cols.outputs, stride.1)
    let rowTaps = (0..<oh).map(rows.taps), colTaps = cols.windowsPerTap
    let colFirst = (0..<ow).map { cols.taps($0).first ?? -1 }
    let laneSteps = SIMD16<Int32>(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
    // The flat in-plane index of each output's maximum, -1 for an empty window.
    var argmax = [Int32](repeating: -1, count: n * c * oh * ow)
    let out = Tensor(shape: [n, c, oh, ow]) { out in
        guard let dst = out.baseAddress else { return }
        x.withScalars { src in argmax.withUnsafeMutableBufferPointer { argmax in
            let argmax = argmax.baseAddress!
            forEachPlane(n * c, work: oh * ow * kernel.0 * kernel.1) { plane in
                let p = src + plane * h * w
                for oy in 0..<oh {
                    let best = dst + (plane * oh + oy) * ow, at = argmax + (plane * oh + oy) * ow
                    best.update(repeating: -.infinity, count: ow)
                    // A window's first in-bounds element stands until a larger one (or NaN) comes.
                    if let iy = rowTaps[oy].first {
                        for ox in 0..<ow { at[ox] = colFirst[ox] < 0 ? -1 : Int32(iy * w + colFirst[ox]) }
                    }
                    // Tap by tap over a row of windows, in each window's row-major order.
                    for iy in rowTaps[oy] {
                        let r = p + iy * w
                        for (windows, first) in colTaps {
                            forEachWindow(windows, first: first, stride: sw, rowWidth: w, vector: { ox, ix in
                                let v = loadStrided(r + ix, sw), b = best.loadVector(ox)
                                let better = (v .> b) .| (v .!= v)
                                best.storeVector(b.replacing(with: v, where: better), ox)
                                let indices = SIMD16<Int32>(repeating: Int32(iy * w + ix)) &+ laneSteps &* Int32(sw)
                                let old = UnsafeRawPointer(at + ox).loadUnaligned(as: SIMD16<Int32>.self)
                                UnsafeMutableRawPointer(at + ox).storeBytes(of: old.replacing(with: indices, where: better), as: SIMD16<Int32>.self)
                            }, scalar: { ox, ix in
                                let v = r[ix]
                                if v > best[ox] || v.isNaN { best[ox] = v; at[ox] = Int32(iy * w + ix) }
                            })
                        }
                    }
                }
            }
        } }
    }
    return Tensor.record(out, op: "maxPool2d", inputs: [x]) { g, _ in
        [Tensor(shape: x.shape) { gx in
            gx.initialize(repeating: 0)
            guard let dst = gx.baseAddress else { return }
            g.withScalars { pg in
                forEachPlane(n * c, work: oh * ow) { plane in
                    let p = dst + plane * h * w
                    for o in plane * oh * ow ..< (plane + 1) * oh * ow where argmax[o] >= 0 { p[Int(argmax[o])] += pg[o] }
                }
            }
        }]
    }
}
