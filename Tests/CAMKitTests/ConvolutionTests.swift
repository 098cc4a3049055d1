import XCTest
@testable import CAMKit

/// A direct seven-loop convolution: slow, obviously right, and the yardstick for the kernels.
private func referenceConv2d(_ x: Tensor, _ w: Tensor, _ b: Tensor?, stride: (Int, Int), padding: Padding2D,
                             dilation: (Int, Int), groups: Int) -> Tensor {
    let (n, h, wd) = (x.shape[0], x.shape[2], x.shape[3])
    let (cout, cpg, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
    let oh = (h + padding.top + padding.bottom - (kh - 1) * dilation.0 - 1) / stride.0 + 1
    let ow = (wd + padding.left + padding.right - (kw - 1) * dilation.1 - 1) / stride.1 + 1
    var out = [Float](repeating: 0, count: n * cout * oh * ow)
    for b0 in 0..<n { for co in 0..<cout { for oy in 0..<oh { for ox in 0..<ow {
        var s: Float = b?.scalars[co] ?? 0
        let group = co / (cout / groups)
        for ci in 0..<cpg { for ky in 0..<kh { for kx in 0..<kw {
            let iy = oy * stride.0 + ky * dilation.0 - padding.top
            let ix = ox * stride.1 + kx * dilation.1 - padding.left
            guard iy >= 0, iy < h, ix >= 0, ix < wd else { continue }
            s += x[b0, group * cpg + ci, iy, ix] * w[co, ci, ky, kx]
        } } }
        out[((b0 * cout + co) * oh + oy) * ow + ox] = s
    } } } }
    return Tensor(shape: [n, cout, oh, ow], scalars: out)
}

private func assertClose(_ a: Tensor, _ b: Tensor, tolerance: Float = 1e-4,
                         file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.shape, b.shape, file: file, line: line)
    guard a.shape == b.shape else { return }
    let worst = zip(a.scalars, b.scalars).map { abs($0 - $1) }.max() ?? 0
    XCTAssertLessThanOrEqual(worst, tolerance, "max difference \(worst)", file: file, line: line)
}

/// One convolution configuration, checked against the reference and by finite differences.
private struct Case {
    var input: [Int], weight: [Int], bias = true
    var stride = (1, 1), padding = Padding2D.symmetric(0), dilation = (1, 1), groups = 1
}

final class ConvolutionTests: XCTestCase {
    private let cases: [Case] = [
        Case(input: [2, 3, 6, 7], weight: [4, 3, 3, 3], padding: .symmetric(1)),
        Case(input: [1, 3, 9, 8], weight: [5, 3, 3, 2], stride: (2, 2), padding: .symmetric(1, 0)),
        Case(input: [1, 2, 9, 9], weight: [3, 2, 3, 3], bias: false, padding: .symmetric(2), dilation: (2, 2)),
        Case(input: [2, 4, 5, 6], weight: [6, 2, 3, 3], padding: Padding2D(top: 0, bottom: 1, left: 1, right: 2), groups: 2),
        Case(input: [2, 4, 5, 6], weight: [3, 4, 1, 1]),
        Case(input: [1, 4, 5, 6], weight: [4, 2, 1, 1], groups: 2),
        Case(input: [1, 3, 8, 8], weight: [6, 3, 4, 4], stride: (4, 4)),
        Case(input: [1, 3, 7, 9], weight: [3, 1, 3, 3], padding: .symmetric(1), groups: 3),
        Case(input: [2, 3, 13, 20], weight: [3, 1, 7, 7], padding: .symmetric(3), groups: 3),
        Case(input: [1, 2, 9, 8], weight: [2, 1, 5, 5], stride: (2, 2),
             padding: Padding2D(top: 1, bottom: 2, left: 1, right: 2), groups: 2),
        Case(input: [1, 2, 10, 11], weight: [2, 1, 3, 3], stride: (2, 2),
             padding: Padding2D(top: 0, bottom: 1, left: 0, right: 1), groups: 2),
        Case(input: [1, 2, 8, 37], weight: [2, 1, 3, 3], stride: (1, 2), padding: .symmetric(2, 3),
             dilation: (2, 3), groups: 2),
        // Widths 16 and 30 (outputs 16 and 15) take the 16-lane depthwise kernels, the ones above 8 lanes.
        Case(input: [1, 3, 5, 16], weight: [3, 1, 3, 3], padding: .symmetric(1), groups: 3),
        Case(input: [2, 2, 9, 30], weight: [2, 1, 3, 3], stride: (2, 2), padding: .symmetric(1), groups: 2),
        // Stride-1 input gradients run the forward kernel unless the padding exceeds the kernel span.
        Case(input: [1, 2, 6, 9], weight: [2, 1, 3, 3], padding: Padding2D(top: 0, bottom: 2, left: 2, right: 0), groups: 2),
        Case(input: [1, 2, 4, 5], weight: [2, 1, 1, 1], padding: .symmetric(1), groups: 2),
    ]

    private func tensors(_ c: Case, requiresGrad: Bool = false) -> (Tensor, Tensor, Tensor?) {
        (randomTensor(c.input, seed: 1, requiresGrad: requiresGrad),
         randomTensor(c.weight, seed: 2, requiresGrad: requiresGrad),
         c.bias ? randomTensor([c.weight[0]], seed: 3, requiresGrad: requiresGrad) : nil)
    }

    func testForwardMatchesReference() {
        for c in cases {
            let (x, w, b) = tensors(c)
            assertClose(conv2d(x, weight: w, bias: b, stride: c.stride, padding: c.padding,
                               dilation: c.dilation, groups: c.groups),
                        referenceConv2d(x, w, b, stride: c.stride, padding: c.padding,
                                        dilation: c.dilation, groups: c.groups))
        }
    }

    func testDepthwiseFastPathEqualsGeneralPath() {
        for c in cases where c.groups == c.input[1] && c.groups == c.weight[0] {
            let (x, w, b) = tensors(c)
            let g = ConvGeometry(input: x.shape, weight: w.shape, bias: b?.shape, stride: c.stride,
                                 padding: c.padding, dilation: c.dilation, groups: c.groups)
            XCTAssertTrue(g.isDepthwise)
            assertClose(depthwiseConv2d(x, weight: w, bias: b, geometry: g),
                        generalConv2d(x, weight: w, bias: b, geometry: g), tolerance: 1e-5)
        }
    }

    func testGradientsMatchFiniteDifferences() {
        for c in cases {
            let (x, w, b) = tensors(c, requiresGrad: true)
            assertGradientsMatchFiniteDifferences([x, w] + (b.map { [$0] } ?? [])) { t in
                conv2d(t[0], weight: t[1], bias: c.bias ? t[2] : nil, stride: c.stride, padding: c.padding,
                       dilation: c.dilation, groups: c.groups)
            }
        }
    }

    /// Grad-CAM asks only for activation gradients; parameters must not get (or cost) one.
    func testOnlyRequestedGradientsAreComputed() throws {
        for c in [cases[0], cases[8]] {
            let x = randomTensor(c.input, seed: 1, requiresGrad: true)
            let w = randomTensor(c.weight, seed: 2), b = randomTensor([c.weight[0]], seed: 3)
            let y = conv2d(x, weight: w, bias: b, padding: c.padding, groups: c.groups)
            try y.backward()
            XCTAssertEqual(x.grad?.shape, c.input)
            XCTAssertNil(w.grad)
            XCTAssertNil(b.grad)
        }
    }

    func testDepthwiseGradientsEqualGeneralPath() throws {
        for c in cases where c.groups == c.input[1] && c.groups == c.weight[0] {
            let g = ConvGeometry(input: c.input, weight: c.weight, bias: [c.weight[0]], stride: c.stride,
                                 padding: c.padding, dilation: c.dilation, groups: c.groups)
            let probe = randomTensor(g.outputShape, seed: 9)
            var grads: [[Tensor?]] = []
            for path in [depthwiseConv2d, generalConv2d] {
                let (x, w, b) = tensors(c, requiresGrad: true)
                try path(x, w, b, g).backward(seed: probe)
                grads.append([x.grad, w.grad, b?.grad])
            }
            for (fast, general) in zip(grads[0], grads[1]) {
                guard let fast, let general else { XCTFail("missing gradient"); continue }
                assertClose(fast, general, tolerance: 1e-4)
            }
        }
    }

    /// Outputs of torch.nn.functional.conv2d (after F.pad for the asymmetric padding) for the
    /// same inputs; generated by scripts/reference/torch_conv_fixtures.py.
    func testMatchesPyTorch() {
        let grouped = conv2d(randomTensor([1, 4, 7, 6], seed: 1), weight: randomTensor([6, 2, 3, 2], seed: 2),
                             bias: randomTensor([6], seed: 3), stride: (2, 1),
                             padding: Padding2D(top: 1, bottom: 2, left: 0, right: 1), dilation: (1, 2), groups: 2)
        assertClose(grouped, Tensor(shape: [1, 6, 4, 5], scalars:
            [-0.3248296, -1.081858, 0.06827503, -0.4249747, 0.3895048, -0.08078721, -0.3973282,
            -0.6366607, -0.2530278, -0.3909539, -1.415215, -0.4225559, 0.4304955, 0.3866554,
            -2.19958, 1.538689, 1.311512, -0.1799247, -0.7751281, -0.7811058, -1.157518, 1.895452,
            -0.3790523, 1.9992, 0.4905101, -0.1705561, 1.419769, 1.861814, 1.250492, -0.6741353,
            2.282586, 1.515164, 0.05952621, 3.186682, -0.2734184, 1.066329, -0.5009499, -0.4133769,
            1.383107, 0.3582816, 0.2961321, 1.262111, 0.8738299, 1.553308, 1.320871, 0.8886641,
            -1.58591, -0.500515, 1.112154, 0.6725317, 0.2858202, 0.4483604, 1.633404, -0.8328148,
            0.4413722, -0.268599, 0.822642, 1.818927, 0.3528441, -0.01357973, 0.03166506, 1.039969,
            2.137558, 1.900097, 0.8895269, -0.2043171, -0.02270281, 1.019062, 0.355507, 0.4749206,
            0.5382342, -0.1473932, 1.479385, -0.3968441, 0.3263046, 0.1884153, 0.9845603, 0.4173696,
            -1.558677, 0.3401419, 0.05528834, 0.4484866, 0.0004523769, 0.04569162, -0.5063751,
            -0.7465841, -0.166391, -0.03704649, 0.6816049, 0.271188, -0.6915483, 1.450466,
            -0.5804797, 0.1144419, -0.4489236, -0.5189906, -0.1270595, -0.06894111, 0.08790301,
            0.02221257, 0.01820129, 1.175985, -0.8149261, -1.114621, -0.8179318, -1.310985,
            -0.1226977, 0.6689438, 0.6246144, -0.6765105, -1.512568, -2.27787, 0.1406364, -1.226259,
            -1.27448, -0.8970773, -0.7980653, -0.179938, -0.9841411, -1.213639]), tolerance: 1e-5)
        let depthwise = conv2d(randomTensor([1, 3, 9, 8], seed: 4), weight: randomTensor([3, 1, 5, 5], seed: 5),
                               bias: randomTensor([3], seed: 6), stride: (2, 2),
                               padding: Padding2D(top: 1, bottom: 2, left: 1, right: 2), groups: 3)
        assertClose(depthwise, Tensor(shape: [1, 3, 4, 4], scalars:
            [-2.053672, -5.13186, -1.284474, -0.4634265, -0.531496, 1.201555, 1.146604, -1.041641,
            1.102875, -2.152362, 2.564959, -1.23056, 0.06766331, 1.536891, -0.9955362, 1.485,
            0.3879771, 0.2860884, -2.286231, -0.1225767, 0.3510365, -1.138101, -1.07893, -0.8854007,
            -2.450346, -2.808413, -0.9010473, -0.8918, 0.5782879, -0.4457325, -2.191924,
            -0.09867521, 0.8715268, 0.9703017, -1.663533, 3.130509, 1.430003, -0.6652747, 2.943985,
            1.952546, -1.969498, 0.4183737, 0.6008416, 3.828071, 1.997388, 2.886154, 1.573666,
            0.3814055]), tolerance: 1e-5)
    }

    func testPaddingConstructors() {
        XCTAssertEqual(Padding2D.symmetric(2), Padding2D(top: 2, bottom: 2, left: 2, right: 2))
        XCTAssertEqual(Padding2D.symmetric(1, 3), Padding2D(top: 1, bottom: 1, left: 3, right: 3))
    }
}
