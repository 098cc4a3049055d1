import CKernels

/// Depthwise convolution (groups == Cin == Cout): every channel plane is convolved with its
/// own kh x kw kernel.
///
/// im2col would copy each input kh*kw times for a GEMM of inner size kh*kw, so instead each
/// plane is copied once into a zero-padded buffer whose columns are split by phase (column
/// index mod strideW). In that layout the input of every tap for a vector of consecutive
/// outputs is a vector of consecutive floats, whatever the stride, dilation or padding, so the
/// hot loops are branch-free SIMD loads and multiply-adds over the output width: the forward's
/// in C (`ck_depthwise_rows`), compiled for each instruction set, the gradients' here.

/// The vectors the kernels compute with. Rows are walked in chunks of 16 columns, with one
/// chunk of 8 for a tail of at most 8, so that widths like 7, 28 or 56 waste few lanes.
private protocol Lanes: SIMD where Scalar == Float {}
extension SIMD8: Lanes where Scalar == Float {}
extension SIMD16: Lanes where Scalar == Float {}

/// A row of `width` rounded up to whole 16-lane chunks: what buffers must hold so that every
/// chunk can load whole vectors.
@inline(__always)
private func chunkedWidth(_ width: Int) -> Int { (width + 15) / 16 * 16 }

@inline(__always)
private func load<V: Lanes>(_ p: UnsafePointer<Float>) -> V {
    UnsafeRawPointer(p).loadUnaligned(as: V.self)
}

@inline(__always)
private func store<V: Lanes>(_ v: V, _ p: UnsafeMutablePointer<Float>, count: Int) {
    if count == V.scalarCount {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
    } else {
        for i in 0..<count { p[i] = v[i] }
    }
}

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
        phaseStride = chunkedWidth(g.outW) + (g.kernelW - 1) * g.dilationW / g.strideW
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
    recordedConvolution(depthwiseForward(x, weight: weight, bias: bias, geometry: g), x, weight, bias,
                        inputGrad: { depthwiseInputGrad($0, weight: weight, geometry: g) },
                        weightGrad: { depthwiseWeightGrad($0, input: x, geometry: g) })
}

/// The forward pass, each output plane clamped as soon as it is written when `clamp` is given.
func depthwiseForward(_ x: Tensor, weight: Tensor, bias: Tensor?, geometry g: ConvGeometry,
                      clamp: ClampBounds? = nil) -> Tensor {
    KernelInstructionSet.prepare()
    let layout = PhasePlane(g)
    let kernelArea = g.kernelH * g.kernelW
    return Tensor(shape: g.outputShape) { out in
        x.withScalars { px in weight.withScalars { pw in layout.taps.withUnsafeBufferPointer { taps in
            let biases = bias?.scalars ?? [Float](repeating: 0, count: g.outChannels)
            let po = out.baseAddress!
            parallelChunks(g.batch * g.outChannels) { planes in
                var buffer = scratch(layout.count)
                buffer.withUnsafeMutableBufferPointer { buffer in
                    let buf = buffer.baseAddress!
                    for plane in planes {
                        let c = plane % g.outChannels
                        layout.fill(buf, from: px + plane * g.inPlane, g)
                        // Two output rows at a time give the CPU independent accumulation chains.
                        for oy in stride(from: 0, to: g.outH, by: 2) {
                            ck_depthwise_rows(buf + layout.rowOffset(oy, g), Int32(min(2, g.outH - oy)),
                                              g.strideH * layout.rowStride, taps.baseAddress!, pw + c * kernelArea,
                                              Int32(kernelArea), biases[c], po + plane * g.outPlane + oy * g.outW,
                                              g.outW, Int32(g.outW))
                        }
                        clamp?.apply(po + plane * g.outPlane, count: g.outPlane)
                    }
                }
            }
        } } }
    }
}

/// One channel's taps: where each reads relative to tap (0, 0), and its weight.
private struct Kernel {
    let taps: UnsafePointer<Int>
    let weights: UnsafePointer<Float>
    let count: Int
}

/// dL/dx of a depthwise convolution: the output gradient correlated with the flipped kernel.
private func depthwiseInputGrad(_ gradOut: Tensor, weight: Tensor, geometry g: ConvGeometry) -> Tensor {
    let spanH = (g.kernelH - 1) * g.dilationH, spanW = (g.kernelW - 1) * g.dilationW
    let p = g.padding
    guard g.strideH == 1, g.strideW == 1, max(p.top, p.bottom) <= spanH, max(p.left, p.right) <= spanW else {
        return stridedDepthwiseInputGrad(gradOut, weight: weight, geometry: g)
    }
    // With stride 1 that correlation is a depthwise convolution of its own, padded by the
    // kernel span minus the forward padding, and gets the forward kernel's speed.
    let kernelArea = g.kernelH * g.kernelW
    let flipped = Tensor(shape: weight.shape) { f in
        weight.withScalars { w in
            for c in 0..<g.inChannels {
                for t in 0..<kernelArea { f[c * kernelArea + t] = w[c * kernelArea + kernelArea - 1 - t] }
            }
        }
    }
    let transposed = ConvGeometry(
        input: gradOut.shape, weight: weight.shape, bias: nil, stride: (1, 1),
        padding: Padding2D(top: spanH - p.top, bottom: spanH - p.bottom, left: spanW - p.left, right: spanW - p.right),
        dilation: (g.dilationH, g.dilationW), groups: g.groups)
    return depthwiseForward(gradOut, weight: flipped, bias: nil, geometry: transposed)
}

/// dL/dx for strides above 1, where outputs skip input positions.
///
/// Padded input column `x = j * strideW + r` receives from taps kx with
/// `kx * dilationW % strideW == r`, at output column `j - kx * dilationW / strideW`; so per
/// phase r the sums again run over consecutive floats of a (left-padded) gradient row.
private func stridedDepthwiseInputGrad(_ gradOut: Tensor, weight: Tensor, geometry g: ConvGeometry) -> Tensor {
    let kernelArea = g.kernelH * g.kernelW
    let maxShift = (g.kernelW - 1) * g.dilationW / g.strideW
    // Per phase, the columns j whose padded column j*strideW + r is a real input column.
    let phaseColumns = (0..<g.strideW).map { r in
        validRange(count: (g.padding.left + g.width) / g.strideW + 1, stride: g.strideW,
                   offset: r - g.padding.left, size: g.width)
    }
    let gradStride = maxShift + chunkedWidth(phaseColumns.map(\.upperBound).max() ?? 0)
    let shape = [g.batch, g.inChannels, g.height, g.width]
    return Tensor(shape: shape) { gx in
        gradOut.withScalars { pg in weight.withScalars { pw in
            parallelChunks(g.batch * g.inChannels) { planes in
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
                                let k = Kernel(taps: UnsafePointer(tapOffsets.baseAddress!),
                                               weights: UnsafePointer(tapWeights.baseAddress!), count: tapCount)
                                let js = phaseColumns[r]
                                let row = dst + iy * g.width + (js.lowerBound * g.strideW + r - g.padding.left)
                                var j0 = js.lowerBound
                                while j0 < js.upperBound {
                                    let n = js.upperBound - j0, at = row + (j0 - js.lowerBound) * g.strideW
                                    if n > 8 {
                                        scatterChunk(SIMD16<Float>.self, gp + j0, k, into: at, stride: g.strideW, count: min(n, 16))
                                        j0 += 16
                                    } else {
                                        scatterChunk(SIMD8<Float>.self, gp + j0, k, into: at, stride: g.strideW, count: n)
                                        j0 += 8
                                    }
                                }
                            }
                        }
                    }
                } } }
            }
        } }
    }
}

/// Sums one vector of input-gradient columns of one phase and writes `count` of them,
/// `stride` apart, back into the input-gradient row.
@inline(__always)
private func scatterChunk<V: Lanes>(_: V.Type, _ src: UnsafePointer<Float>, _ k: Kernel,
                                    into dst: UnsafeMutablePointer<Float>, stride: Int, count: Int) {
    var acc = V()
    for t in 0..<k.count { acc += load(src + k.taps[t]) as V * k.weights[t] }
    if stride == 1 {
        store(acc, dst, count: count)
    } else {
        for i in 0..<count { dst[i * stride] = acc[i] }
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
            parallelChunks(g.outChannels) { channels in
                var buffer = scratch(layout.count)
                var gradRow = [Float](repeating: 0, count: chunkedWidth(g.outW))
                var sums = [SIMD16<Float>](repeating: .zero, count: kernelArea)
                buffer.withUnsafeMutableBufferPointer { buffer in
                gradRow.withUnsafeMutableBufferPointer { gradRow in
                sums.withUnsafeMutableBufferPointer { sums in
                    let buf = buffer.baseAddress!, row = gradRow.baseAddress!
                    for c in channels {
                        sums.update(repeating: .zero)
                        for n in 0..<g.batch {
                            let plane = n * g.outChannels + c
                            layout.fill(buf, from: px + plane * g.inPlane, g)
                            for oy in 0..<g.outH {
                                // A copy with zeroed slack, so the rounded-up lanes add nothing.
                                row.update(from: pg + plane * g.outPlane + oy * g.outW, count: g.outW)
                                let base = buf + layout.rowOffset(oy, g)
                                for c0 in stride(from: 0, to: g.outW, by: 16) {
                                    let grad: SIMD16<Float> = load(row + c0)
                                    for t in 0..<kernelArea { sums[t] += load(base + c0 + taps[t]) as SIMD16<Float> * grad }
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
