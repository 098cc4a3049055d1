
/// Zero padding added around the spatial dimensions of an NCHW input.
///
/// Separate sides because TensorFlow "same" padding and Keras `ZeroPadding2D` put the extra
/// row/column at the bottom/right, which a single symmetric amount cannot express.
public struct Padding2D: Equatable, Sendable {
    public var top: Int, bottom: Int, left: Int, right: Int

    public init(top: Int, bottom: Int, left: Int, right: Int) {
        self.top = top
        self.bottom = bottom
        self.left = left
        self.right = right
    }

    public static func symmetric(_ p: Int) -> Padding2D { symmetric(p, p) }

    public static func symmetric(_ h: Int, _ w: Int) -> Padding2D {
        Padding2D(top: h, bottom: h, left: w, right: w)
    }
}

/// The validated sizes of one convolution call, shared by the general and depthwise kernels.
struct ConvGeometry {
    let batch, inChannels, height, width: Int
    let outChannels, kernelH, kernelW, groups: Int
    let strideH, strideW, dilationH, dilationW: Int
    let padding: Padding2D
    let outH, outW: Int

    init(input: [Int], weight: [Int], bias: [Int]?, stride: (Int, Int), padding: Padding2D,
         dilation: (Int, Int), groups: Int) {
        precondition(input.count == 4, "conv2d: input must be NCHW, got shape \(input)")
        precondition(weight.count == 4, "conv2d: weight must be (Cout, Cin/groups, kh, kw), got shape \(weight)")
        precondition(groups >= 1, "conv2d: groups must be positive, got \(groups)")
        precondition(stride.0 >= 1 && stride.1 >= 1, "conv2d: stride must be positive, got \(stride)")
        precondition(dilation.0 >= 1 && dilation.1 >= 1, "conv2d: dilation must be positive, got \(dilation)")
        precondition(min(padding.top, padding.bottom, padding.left, padding.right) >= 0,
                     "conv2d: padding must not be negative, got \(padding)")
        batch = input[0]; inChannels = input[1]; height = input[2]; width = input[3]
        outChannels = weight[0]; kernelH = weight[2]; kernelW = weight[3]
        precondition(inChannels % groups == 0 && outChannels % groups == 0,
                     "conv2d: groups \(groups) must divide the input channels of \(input) and the output channels of weight \(weight)")
        precondition(weight[1] * groups == inChannels,
                     "conv2d: input \(input) has \(inChannels) channels but weight \(weight) with groups \(groups) expects \(weight[1] * groups)")
        if let bias {
            precondition(bias == [outChannels], "conv2d: bias must have shape [\(outChannels)] for weight \(weight), got \(bias)")
        }
        self.groups = groups
        strideH = stride.0; strideW = stride.1
        dilationH = dilation.0; dilationW = dilation.1
        self.padding = padding
        let spanH = (kernelH - 1) * dilationH + 1, spanW = (kernelW - 1) * dilationW + 1
        let paddedH = height + padding.top + padding.bottom, paddedW = width + padding.left + padding.right
        precondition(kernelH >= 1 && kernelW >= 1 && spanH <= paddedH && spanW <= paddedW,
                     "conv2d: kernel \(weight) with dilation \(dilation) spans \(spanH)x\(spanW), larger than input \(input) padded by \(padding)")
        outH = (paddedH - spanH) / strideH + 1
        outW = (paddedW - spanW) / strideW + 1
    }

    var outputShape: [Int] { [batch, outChannels, outH, outW] }
    var isDepthwise: Bool { groups == inChannels && groups == outChannels }
    /// A 1x1 stride-1 unpadded convolution reads each input plane as it is: a plain GEMM.
    var isPointwise: Bool {
        kernelH == 1 && kernelW == 1 && strideH == 1 && strideW == 1 && padding == .symmetric(0)
    }
    var inPerGroup: Int { inChannels / groups }
    var outPerGroup: Int { outChannels / groups }
    /// Rows of the im2col matrix of one group: one per (input channel, ky, kx).
    var patchSize: Int { inPerGroup * kernelH * kernelW }
    var inPlane: Int { height * width }
    var outPlane: Int { outH * outW }
}

/// 2-D cross-correlation over an NCHW input, as PyTorch's `conv2d`.
///
/// `weight` is (Cout, Cin/groups, kh, kw) and `bias` (Cout) or nil. Depthwise convolutions
/// (groups == Cin == Cout) take a hand-written kernel; everything else goes through im2col
/// and BLAS.
public func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor?, stride: (Int, Int) = (1, 1),
                   padding: Padding2D = .symmetric(0), dilation: (Int, Int) = (1, 1), groups: Int = 1) -> Tensor {
    traced(.conv2d(Conv2dAttributes(stride: stride, padding: padding, dilation: dilation, groups: groups)),
           [x, weight] + (bias.map { [$0] } ?? [])) {
        let geometry = ConvGeometry(input: x.shape, weight: weight.shape, bias: bias?.shape, stride: stride,
                                    padding: padding, dilation: dilation, groups: groups)
        return geometry.isDepthwise
            ? depthwiseConv2d(x, weight: weight, bias: bias, geometry: geometry)
            : generalConv2d(x, weight: weight, bias: bias, geometry: geometry)
    }
}

/// A convolution whose output goes through a clamping activation in place
/// (`attributes.activation`), recorded for no gradient: the fused nodes of inference graphs.
func clampedConv2d(_ x: Tensor, weight: Tensor, bias: Tensor?, attributes a: Conv2dAttributes) -> Tensor {
    guard let clamp = a.activation?.clampBounds else {
        preconditionFailure("conv2d: \(String(describing: a.activation)) is not a clamping activation")
    }
    precondition(!x.requiresGrad && !weight.requiresGrad, "conv2d: a fused convolution has no gradient")
    let geometry = ConvGeometry(input: x.shape, weight: weight.shape, bias: bias?.shape, stride: (a.strideH, a.strideW),
                                padding: a.padding, dilation: (a.dilationH, a.dilationW), groups: a.groups)
    return geometry.isDepthwise
        ? depthwiseForward(x, weight: weight, bias: bias, geometry: geometry, clamp: clamp)
        : generalConv2dForward(x, weight: weight, bias: bias, geometry: geometry, clamp: clamp)
}

/// The im2col + GEMM convolution, valid for any geometry.
func generalConv2d(_ x: Tensor, weight: Tensor, bias: Tensor?, geometry g: ConvGeometry) -> Tensor {
    recordedConvolution(generalConv2dForward(x, weight: weight, bias: bias, geometry: g), x, weight, bias,
                        inputGrad: { generalConv2dInputGrad($0, weight: weight, geometry: g) },
                        weightGrad: { generalConv2dWeightGrad($0, input: x, geometry: g) })
}

/// A convolution's output recorded with the gradients of its input, weight and bias.
func recordedConvolution(_ out: Tensor, _ x: Tensor, _ weight: Tensor, _ bias: Tensor?,
                         inputGrad: @escaping (Tensor) -> Tensor, weightGrad: @escaping (Tensor) -> Tensor) -> Tensor {
    Tensor.record(out, op: "conv2d", inputs: bias.map { [x, weight, $0] } ?? [x, weight]) { gradOut, needs in
        [needs[0] ? inputGrad(gradOut) : nil, needs[1] ? weightGrad(gradOut) : nil,
         needs.count > 2 && needs[2] ? convBiasGrad(gradOut) : nil]
    }
}

private func generalConv2dForward(_ x: Tensor, weight: Tensor, bias: Tensor?, geometry g: ConvGeometry,
                                  clamp: ClampBounds? = nil) -> Tensor {
    Tensor(shape: g.outputShape) { out in
        x.withScalars { px in weight.withScalars { pw in
            let po = out.baseAddress!
            if let bias {
                bias.withScalars { pb in
                    for n in 0..<g.batch {
                        for c in 0..<g.outChannels {
                            (po + (n * g.outChannels + c) * g.outPlane).initialize(repeating: pb[c], count: g.outPlane)
                        }
                    }
                }
            }
            if g.isPointwise && g.groups == 1 {
                // One product per image, their tiles shared out together: one dispatch for the
                // batch, and each element still computed by the same call as alone.
                sgemmBatch(count: g.batch, m: g.outChannels, n: g.outPlane, k: g.inChannels, transposeA: false,
                           transposeB: false, accumulate: bias != nil, clamp: clamp, a: { _ in pw },
                           b: { px + $0 * g.inChannels * g.inPlane }, c: { po + $0 * g.outChannels * g.outPlane })
                return
            }
            forEachPatchMatrix(px, g) { n, group, patches in
                sgemm(transA: false, transB: false, m: g.outPerGroup, n: g.outPlane, k: g.patchSize,
                      a: pw + group * g.outPerGroup * g.patchSize, lda: g.patchSize,
                      b: patches, ldb: g.outPlane, beta: bias == nil ? 0 : 1,
                      c: po + (n * g.outChannels + group * g.outPerGroup) * g.outPlane, ldc: g.outPlane, clamp: clamp)
            }
        } }
    }
}

/// Calls `body` with the (patchSize, outPlane) patch matrix of every image and group: the
/// input itself for a pointwise convolution, an im2col copy otherwise.
private func forEachPatchMatrix(_ px: UnsafePointer<Float>, _ g: ConvGeometry,
                                _ body: (_ n: Int, _ group: Int, _ patches: UnsafePointer<Float>) -> Void) {
    var col = scratch(g.isPointwise ? 0 : g.patchSize * g.outPlane)
    col.withUnsafeMutableBufferPointer { col in
        for n in 0..<g.batch {
            for group in 0..<g.groups {
                let input = px + (n * g.inChannels + group * g.inPerGroup) * g.inPlane
                if g.isPointwise {
                    body(n, group, input)
                } else {
                    im2col(input, g, into: col.baseAddress!)
                    body(n, group, UnsafePointer(col.baseAddress!))
                }
            }
        }
    }
}

/// dL/dx: W^T times the output gradient gives column gradients, which col2im sums back
/// onto the input positions they were read from.
private func generalConv2dInputGrad(_ gradOut: Tensor, weight: Tensor, geometry g: ConvGeometry) -> Tensor {
    let shape = [g.batch, g.inChannels, g.height, g.width]
    if g.isPointwise {
        return Tensor(shape: shape) { gx in
            gradOut.withScalars { pg in weight.withScalars { pw in
                for n in 0..<g.batch {
                    for group in 0..<g.groups {
                        sgemm(transA: true, transB: false, m: g.inPerGroup, n: g.inPlane, k: g.outPerGroup,
                              a: pw + group * g.outPerGroup * g.patchSize, lda: g.patchSize,
                              b: pg + (n * g.outChannels + group * g.outPerGroup) * g.outPlane, ldb: g.outPlane,
                              beta: 0, c: gx.baseAddress! + (n * g.inChannels + group * g.inPerGroup) * g.inPlane,
                              ldc: g.inPlane)
                    }
                }
            } }
        }
    }
    var gx = [Float](repeating: 0, count: shape.product)
    var col = scratch(g.patchSize * g.outPlane)
    gradOut.withScalars { pg in weight.withScalars { pw in
        gx.withUnsafeMutableBufferPointer { gx in col.withUnsafeMutableBufferPointer { col in
            for n in 0..<g.batch {
                for group in 0..<g.groups {
                    sgemm(transA: true, transB: false, m: g.patchSize, n: g.outPlane, k: g.outPerGroup,
                          a: pw + group * g.outPerGroup * g.patchSize, lda: g.patchSize,
                          b: pg + (n * g.outChannels + group * g.outPerGroup) * g.outPlane, ldb: g.outPlane,
                          beta: 0, c: col.baseAddress!, ldc: g.outPlane)
                    col2im(UnsafePointer(col.baseAddress!), g,
                           addingInto: gx.baseAddress! + (n * g.inChannels + group * g.inPerGroup) * g.inPlane)
                }
            }
        } }
    } }
    return Tensor(shape: shape, scalars: gx)
}

/// dL/dW: the output gradient times the transposed im2col matrix, summed over the batch.
private func generalConv2dWeightGrad(_ gradOut: Tensor, input x: Tensor, geometry g: ConvGeometry) -> Tensor {
    let shape = [g.outChannels, g.inPerGroup, g.kernelH, g.kernelW]
    return Tensor(shape: shape) { gw in
        gradOut.withScalars { pg in x.withScalars { px in
            forEachPatchMatrix(px, g) { n, group, patches in
                sgemm(transA: false, transB: true, m: g.outPerGroup, n: g.patchSize, k: g.outPlane,
                      a: pg + (n * g.outChannels + group * g.outPerGroup) * g.outPlane, lda: g.outPlane,
                      b: patches, ldb: g.outPlane, beta: n == 0 ? 0 : 1,
                      c: gw.baseAddress! + group * g.outPerGroup * g.patchSize, ldc: g.patchSize)
            }
        } }
    }
}

/// dL/db: the output gradient summed over batch and space, per channel.
func convBiasGrad(_ gradOut: Tensor) -> Tensor {
    let (batch, channels) = (gradOut.shape[0], gradOut.shape[1])
    let plane = gradOut.shape[2] * gradOut.shape[3]
    var sums = [Float](repeating: 0, count: channels)
    gradOut.withScalars { pg in
        for n in 0..<batch {
            for c in 0..<channels {
                let p = pg + (n * channels + c) * plane
                var s: Float = 0
                for i in 0..<plane { s += p[i] }
                sums[c] += s
            }
        }
    }
    return Tensor(shape: [channels], scalars: sums)
}

/// For `n` consecutive output positions `o` reading input position `o * stride + offset`,
/// the sub-range whose input lies inside `0..<size` (the rest reads zero padding).
@inline(__always)
func validRange(count n: Int, stride: Int, offset: Int, size: Int) -> Range<Int> {
    // o * stride + offset >= 0  and  o * stride + offset < size
    let lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride
    let hi = size - offset <= 0 ? 0 : (size - offset - 1) / stride + 1
    return min(lo, n)..<max(min(hi, n), min(lo, n))
}

/// Unfolds one group's input channels into the (Cin/groups * kh * kw, outH * outW) patch
/// matrix, so that the convolution becomes one GEMM with the weight matrix.
private func im2col(_ input: UnsafePointer<Float>, _ g: ConvGeometry, into col: UnsafeMutablePointer<Float>) {
    let kernelArea = g.kernelH * g.kernelW
    parallelChunks(g.patchSize, grain: max(1, 16_384 / max(1, g.outPlane))) { rows in
        for row in rows {
            let c = row / kernelArea, ky = row % kernelArea / g.kernelW, kx = row % g.kernelW
            let plane = input + c * g.inPlane
            let xOffset = kx * g.dilationW - g.padding.left
            let xs = validRange(count: g.outW, stride: g.strideW, offset: xOffset, size: g.width)
            for oy in 0..<g.outH {
                let dst = col + row * g.outPlane + oy * g.outW
                let iy = oy * g.strideH + ky * g.dilationH - g.padding.top
                guard iy >= 0 && iy < g.height else {
                    dst.update(repeating: 0, count: g.outW)
                    continue
                }
                let src = plane + iy * g.width + xOffset
                dst.update(repeating: 0, count: xs.lowerBound)
                if g.strideW == 1 {
                    (dst + xs.lowerBound).update(from: src + xs.lowerBound, count: xs.count)
                } else {
                    for ox in xs { dst[ox] = src[ox * g.strideW] }
                }
                (dst + xs.upperBound).update(repeating: 0, count: g.outW - xs.upperBound)
            }
        }
    }
}

/// The adjoint of `im2col`: adds every column entry onto the input position it was read from.
private func col2im(_ col: UnsafePointer<Float>, _ g: ConvGeometry, addingInto input: UnsafeMutablePointer<Float>) {
    // One input channel per worker at a time, so no two workers write the same plane.
    parallelChunks(g.inPerGroup) { channels in
        for c in channels {
            let plane = input + c * g.inPlane
            for ky in 0..<g.kernelH {
                for kx in 0..<g.kernelW {
                    let row = (c * g.kernelH + ky) * g.kernelW + kx
                    let xOffset = kx * g.dilationW - g.padding.left
                    let xs = validRange(count: g.outW, stride: g.strideW, offset: xOffset, size: g.width)
                    for oy in 0..<g.outH {
                        let iy = oy * g.strideH + ky * g.dilationH - g.padding.top
                        guard iy >= 0 && iy < g.height else { continue }
                        let src = col + row * g.outPlane + oy * g.outW
                        let dst = plane + iy * g.width + xOffset
                        for ox in xs { dst[ox * g.strideW] += src[ox] }
                    }
                }
            }
        }
    }
}

/// An uninitialised buffer for intermediates every kernel fully overwrites before reading.
func scratch(_ count: Int) -> [Float] {
    [Float](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
}
