/// Depthwise convolution (groups == Cin == Cout): every channel plane is convolved with its
/// own kh x kw kernel.
///
/// im2col would copy each input kh*kw times for a GEMM of inner size kh*kw, so instead each
/// plane is copied once into a zero-padded buffer whose columns are split by phase (column
/// index mod strideW). In that layout the input of every tap for 16 consecutive outputs is
/// 16 consecutive floats, whatever the stride, dilation or padding, so the hot loops are
/// branch-free SIMD loads and multiply-adds over the output width.

private typealias Lanes = SIMD16<Float>
private let laneCount = Lanes.scalarCount

@inline(__always)
private func load(_ p: UnsafePointer<Float>) -> Lanes {
    UnsafeRawPointer(p).loadUnaligned(as: Lanes.self)
}

@inline(__always)
private func store(_ v: Lanes, _ p: UnsafeMutablePointer<Float>, count: Int) {
    if count == laneCount {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: Lanes.self)
    } else {
        for i in 0..<count { p[i] = v[i] }
    }
}

@inline(__always)
private func roundUpToLanes(_ n: Int) -> Int { (n + laneCount - 1) / laneCount * laneCount }

/// The padded, phase-split copy of one input plane that the forward and weight-gradient
/// kernels read. Element (padded row y, padded column x) sits at
/// `y * rowStride + (x % strideW) * phaseStride + x / strideW`.
private struct PhasePlane {
    let rows: Int
    let phaseStride: Int
    let rowStride: Int
    /// Offset of each tap (ky, kx), relative to the element read by tap (0, 0).
    let taps: [Int]

    init(_ g: ConvGeometry) {
        rows = (g.outH - 1) * g.strideH + (g.kernelH - 1) * g.dilationH + 1
        // Reads for the last (rounded-up) lanes reach `(kernelW-1)*dilationW/strideW` further.
        phaseStride = roundUpToLanes(g.outW) + (g.kernelW - 1) * g.dilationW / g.strideW
        rowStride = g.strideW * phaseStride
        var taps: [Int] = []
        for ky in 0..<g.kernelH {
            for kx in 0..<g.kernelW {
                let column = kx * g.dilationW
                taps.append(ky * g.dilationH * rowStride + column % g.strideW * phaseStride + column / g.strideW)
            }
        }
        self.taps = taps
    }

    var count: Int { rows * rowStride }

    /// Offset of the element read by tap (0, 0) for output (oy, 0).
    @inline(__always)
    func rowOffset(_ oy: Int, _ g: ConvGeometry) -> Int { oy * g.strideH * rowStride }

    /// Copies `plane` (height x width) into `buffer`, zero-filling padding and slack.
    func fill(_ buffer: UnsafeMutablePointer<Float>, from plane: UnsafePointer<Float>, _ g: ConvGeometry) {
        for row in 0..<rows {
            let dst = buffer + row * rowStride
            let iy = row - g.padding.top
            guard iy >= 0 && iy < g.height else {
                dst.update(repeating: 0, count: rowStride)
                continue
            }
            let src = plane + iy * g.width
            for phase in 0..<g.strideW {
                let d = dst + phase * phaseStride
                let offset = phase - g.padding.left
                let js = validRange(count: phaseStride, stride: g.strideW, offset: offset, size: g.width)
                d.update(repeating: 0, count: js.lowerBound)
                if g.strideW == 1 {
                    (d + js.lowerBound).update(from: src + js.lowerBound + offset, count: js.count)
                } else {
                    for j in js { d[j] = src[j * g.strideW + offset] }
                }
                (d + js.upperBound).update(repeating: 0, count: phaseStride - js.upperBound)
            }
        }
    }
}

/// The depthwise fast path of `conv2d`; `g.isDepthwise` must hold.
func depthwiseConv2d(_ x: Tensor, weight: Tensor, bias: Tensor?, geometry g: ConvGeometry) -> Tensor {
    let layout = PhasePlane(g)
    let kernelArea = g.kernelH * g.kernelW
    let out = Tensor(shape: g.outputShape) { out in
        x.withScalars { px in weight.withScalars { pw in layout.taps.withUnsafeBufferPointer { taps in
            let biases = bias?.scalars ?? [Float](repeating: 0, count: g.outChannels)
            let po = out.baseAddress!
            parallelFor(g.batch * g.outChannels) { planes in
                var buffer = scratch(layout.count)
                buffer.withUnsafeMutableBufferPointer { buffer in
                    let buf = buffer.baseAddress!
                    for plane in planes {
                        let c = plane % g.outChannels
                        layout.fill(buf, from: px + plane * g.inPlane, g)
                        depthwisePlane(buf, layout, g, taps: taps.baseAddress!, weights: pw + c * kernelArea,
                                       bias: biases[c], into: po + plane * g.outPlane)
                    }
                }
            }
        } } }
    }
    let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
    return Tensor.record(out, op: "conv2d", inputs: inputs) { gradOut, needs in
        [needs[0] ? depthwiseInputGrad(gradOut, weight: weight, geometry: g) : nil,
         needs[1] ? depthwiseWeightGrad(gradOut, input: x, geometry: g) : nil,
         needs.count > 2 && needs[2] ? convBiasGrad(gradOut) : nil]
    }
}

/// Convolves one phase-split plane. Two output rows at a time give the CPU two independent
/// accumulation chains.
@inline(__always)
private func depthwisePlane(_ buf: UnsafePointer<Float>, _ layout: PhasePlane, _ g: ConvGeometry,
                            taps: UnsafePointer<Int>, weights: UnsafePointer<Float>, bias: Float,
                            into out: UnsafeMutablePointer<Float>) {
    let tapCount = g.kernelH * g.kernelW
    let nextRow = g.strideH * layout.rowStride
    var oy = 0
    while oy + 1 < g.outH {
        let base = buf + layout.rowOffset(oy, g)
        var c0 = 0
        while c0 < g.outW {
            var acc0 = Lanes(repeating: bias), acc1 = Lanes(repeating: bias)
            let p = base + c0
            for t in 0..<tapCount {
                let w = weights[t]
                acc0 += load(p + taps[t]) * w
                acc1 += load(p + taps[t] + nextRow) * w
            }
            let n = min(laneCount, g.outW - c0)
            store(acc0, out + oy * g.outW + c0, count: n)
            store(acc1, out + (oy + 1) * g.outW + c0, count: n)
            c0 += laneCount
        }
        oy += 2
    }
    if oy < g.outH {
        let base = buf + layout.rowOffset(oy, g)
        var c0 = 0
        while c0 < g.outW {
            var acc = Lanes(repeating: bias)
            for t in 0..<tapCount { acc += load(base + c0 + taps[t]) * weights[t] }
            store(acc, out + oy * g.outW + c0, count: min(laneCount, g.outW - c0))
            c0 += laneCount
        }
    }
}

/// dL/dx of a depthwise convolution: the output gradient correlated with the flipped kernel.
///
/// Padded input column `x = j * strideW + r` receives from taps kx with
/// `kx * dilationW % strideW == r`, at output column `j - kx * dilationW / strideW`; so per
/// phase r the sums again run over consecutive floats of a (left-padded) gradient row.
private func depthwiseInputGrad(_ gradOut: Tensor, weight: Tensor, geometry g: ConvGeometry) -> Tensor {
    let kernelArea = g.kernelH * g.kernelW
    let maxShift = (g.kernelW - 1) * g.dilationW / g.strideW
    // Per phase, the columns j whose padded column j*strideW + r is a real input column.
    let phaseColumns = (0..<g.strideW).map { r in
        validRange(count: (g.padding.left + g.width) / g.strideW + 1, stride: g.strideW,
                   offset: r - g.padding.left, size: g.width)
    }
    let gradStride = maxShift + (phaseColumns.map(\.upperBound).max() ?? 0) + laneCount
    let shape = [g.batch, g.inChannels, g.height, g.width]
    return Tensor(shape: shape) { gx in
        gradOut.withScalars { pg in weight.withScalars { pw in
            parallelFor(g.batch * g.inChannels) { planes in
                var padded = scratch(g.outH * gradStride)
                var tapOffsets = [Int](repeating: 0, count: kernelArea)
                var tapWeights = [Float](repeating: 0, count: kernelArea)
                padded.withUnsafeMutableBufferPointer { padded in
                tapOffsets.withUnsafeMutableBufferPointer { tapOffsets in
                tapWeights.withUnsafeMutableBufferPointer { tapWeights in
                    let gp = padded.baseAddress!
                    for plane in planes {
                        let kernel = pw + plane % g.inChannels * kernelArea
                        let src = pg + plane * g.outPlane
                        let usable = min(g.outW, gradStride - maxShift)
                        for oy in 0..<g.outH {
                            let d = gp + oy * gradStride
                            d.update(repeating: 0, count: maxShift)
                            (d + maxShift).update(from: src + oy * g.outW, count: usable)
                            (d + maxShift + usable).update(repeating: 0, count: gradStride - maxShift - usable)
                        }
                        let dst = gx.baseAddress! + plane * g.inPlane
                        for iy in 0..<g.height {
                            let py = iy + g.padding.top
                            for r in 0..<g.strideW {
                                // The taps reaching padded row py, phase r, and where they read.
                                var tapCount = 0
                                for ky in 0..<g.kernelH {
                                    let t = py - ky * g.dilationH
                                    guard t >= 0, t % g.strideH == 0, t / g.strideH < g.outH else { continue }
                                    for kx in 0..<g.kernelW where kx * g.dilationW % g.strideW == r {
                                        tapOffsets[tapCount] = t / g.strideH * gradStride + maxShift
                                            - kx * g.dilationW / g.strideW
                                        tapWeights[tapCount] = kernel[ky * g.kernelW + kx]
                                        tapCount += 1
                                    }
                                }
                                let js = phaseColumns[r]
                                let row = dst + iy * g.width + (js.lowerBound * g.strideW + r - g.padding.left)
                                var j0 = js.lowerBound
                                while j0 < js.upperBound {
                                    var acc = Lanes()
                                    for t in 0..<tapCount { acc += load(gp + tapOffsets[t] + j0) * tapWeights[t] }
                                    let n = min(laneCount, js.upperBound - j0)
                                    let at = row + (j0 - js.lowerBound) * g.strideW
                                    if g.strideW == 1 {
                                        store(acc, at, count: n)
                                    } else {
                                        for i in 0..<n { at[i * g.strideW] = acc[i] }
                                    }
                                    j0 += laneCount
                                }
                            }
                        }
                    }
                } } }
            }
        } }
    }
}

/// dL/dW of a depthwise convolution: per tap, the dot product of the output gradient with
/// the input it read, summed over the batch. Split over channels so each worker owns its sums.
private func depthwiseWeightGrad(_ gradOut: Tensor, input x: Tensor, geometry g: ConvGeometry) -> Tensor {
    let layout = PhasePlane(g)
    let kernelArea = g.kernelH * g.kernelW
    let shape = [g.outChannels, 1, g.kernelH, g.kernelW]
    return Tensor(shape: shape) { gw in
        gradOut.withScalars { pg in x.withScalars { px in layout.taps.withUnsafeBufferPointer { taps in
            parallelFor(g.outChannels) { channels in
                var buffer = scratch(layout.count)
                var gradRow = [Float](repeating: 0, count: roundUpToLanes(g.outW))
                var sums = [Lanes](repeating: Lanes(), count: kernelArea)
                buffer.withUnsafeMutableBufferPointer { buffer in
                gradRow.withUnsafeMutableBufferPointer { gradRow in
                sums.withUnsafeMutableBufferPointer { sums in
                    let buf = buffer.baseAddress!, row = gradRow.baseAddress!
                    for c in channels {
                        sums.update(repeating: Lanes())
                        for n in 0..<g.batch {
                            let plane = n * g.outChannels + c
                            layout.fill(buf, from: px + plane * g.inPlane, g)
                            for oy in 0..<g.outH {
                                // A copy with zeroed slack, so the rounded-up lanes add nothing.
                                row.update(from: pg + plane * g.outPlane + oy * g.outW, count: g.outW)
                                let base = buf + layout.rowOffset(oy, g)
                                var c0 = 0
                                while c0 < g.outW {
                                    let grad = load(row + c0)
                                    for t in 0..<kernelArea { sums[t] += load(base + c0 + taps[t]) * grad }
                                    c0 += laneCount
                                }
                            }
                        }
                        for t in 0..<kernelArea { gw[c * kernelArea + t] = sums[t].sum() }
                    }
                } } }
            }
        } } }
    }
}
