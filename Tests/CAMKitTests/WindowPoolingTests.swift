import XCTest
@testable import CAMKit

/// Distinct values 0.1 apart in a shuffled order, so that finite differences never change an argmax.
private func distinct(_ shape: [Int], seed: UInt64) -> Tensor {
    let order = randomTensor(shape, seed: seed).scalars.enumerated().sorted { $0.element < $1.element }.map(\.offset)
    var values = [Float](repeating: 0, count: order.count)
    for (rank, i) in order.enumerated() { values[i] = Float(rank) * 0.1 - 3 }
    return Tensor(shape: shape, scalars: values, requiresGrad: true)
}

/// torch's pooling_output_shape, restated.
private func outputLength(_ size: Int, _ kernel: Int, _ stride: Int, _ before: Int, _ after: Int, _ dilation: Int, _ ceil: Bool) -> Int {
    let span = dilation * (kernel - 1) + 1
    let total = size + before + after - span
    var n = (ceil ? Int((Double(total) / Double(stride)).rounded(.up)) : total / stride) + 1
    if ceil && (n - 1) * stride >= size + before { n -= 1 }
    return n
}

/// Pooling by visiting every kernel tap of every window and bounds-checking it: torch's
/// avg_pool2d (divisor: taps inside the padded input, or inside the input) and max_pool2d.
private func naivePool(_ x: Tensor, kernel: (Int, Int), stride: (Int, Int), padding p: Padding2D, dilation: (Int, Int),
                       ceil: Bool, average: Bool, countIncludePad: Bool) -> (shape: [Int], values: [Float]) {
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let oh = outputLength(h, kernel.0, stride.0, p.top, p.bottom, dilation.0, ceil)
    let ow = outputLength(w, kernel.1, stride.1, p.left, p.right, dilation.1, ceil)
    var values: [Float] = []
    for plane in 0..<(n * c) {
        for oy in 0..<oh {
            for ox in 0..<ow {
                var sum: Float = 0, best = -Float.infinity, inside = 0, padded = 0
                for ky in 0..<kernel.0 {
                    for kx in 0..<kernel.1 {
                        let iy = oy * stride.0 - p.top + ky * dilation.0, ix = ox * stride.1 - p.left + kx * dilation.1
                        if iy < h + p.bottom && ix < w + p.right { padded += 1 }
                        guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                        let v = x.scalars[plane * h * w + iy * w + ix]
                        sum += v
                        best = max(best, v)
                        inside += 1
                    }
                }
                values.append(average ? (inside == 0 ? 0 : sum / Float(countIncludePad ? padded : inside)) : best)
            }
        }
    }
    return ([n, c, oh, ow], values)
}

final class WindowPoolingTests: XCTestCase {
    func testAverageCeilModeCutsTheLastWindow() {
        let x = arange([1, 1, 5, 5])
        for include in [true, false] {
            let y = averagePool2d(x, kernel: (2, 2), stride: (2, 2), padding: .symmetric(0), countIncludePad: include, ceilMode: true)
            XCTAssertEqual(y.shape, [1, 1, 3, 3])
            XCTAssertEqual(y.scalars, [3, 5, 6.5, 13, 15, 16.5, 20.5, 22.5, 24])
        }
        XCTAssertEqual(averagePool2d(x, kernel: (2, 2), stride: (2, 2), padding: .symmetric(0), countIncludePad: true, ceilMode: false).scalars,
                       [3, 5, 13, 15])
    }

    func testAveragePaddingDivisors() {
        let x = arange([1, 1, 4, 4])
        let included = averagePool2d(x, kernel: (3, 3), stride: (2, 2), padding: .symmetric(1), countIncludePad: true, ceilMode: false)
        assertClose(included, [10 / 9, 24 / 9, 51 / 9, 10], shape: [1, 1, 2, 2])
        let excluded = averagePool2d(x, kernel: (3, 3), stride: (2, 2), padding: .symmetric(1), countIncludePad: false, ceilMode: false)
        XCTAssertEqual(excluded.scalars, [2.5, 4, 8.5, 10])
        // Ceil mode: the last window [5, 8) overhangs the padded input [-1, 7); with the padding
        // counted, torch divides by the 2 rows inside the padded input, without it by the 1 row inside.
        let column = arange([1, 1, 6, 1])
        let p = Padding2D(top: 1, bottom: 1, left: 0, right: 0)
        assertClose(averagePool2d(column, kernel: (3, 1), stride: (2, 1), padding: p, countIncludePad: true, ceilMode: true),
                    [1 / 3, 2, 4, 2.5], shape: [1, 1, 4, 1])
        assertClose(averagePool2d(column, kernel: (3, 1), stride: (2, 1), padding: p, countIncludePad: false, ceilMode: true),
                    [0.5, 2, 4, 5], shape: [1, 1, 4, 1])
        XCTAssertEqual(averagePool2d(column, kernel: (3, 1), stride: (2, 1), padding: p, countIncludePad: true, ceilMode: false).shape,
                       [1, 1, 3, 1])
    }

    func testCeilModeDropsAWindowStartingInTheTrailingPadding() {
        // 4 + 2 padding, kernel 2, stride 3: ceil would give 3 windows, the third starting at 5,
        // past the input and its leading padding, so torch keeps 2.
        let x = arange([1, 1, 4, 4])
        let y = maxPool2d(x, kernel: (2, 2), stride: (3, 3), padding: .symmetric(1), dilation: (1, 1), ceilMode: true)
        XCTAssertEqual(y.shape, [1, 1, 2, 2])
        XCTAssertEqual(y.scalars, [0, 3, 12, 15])
        XCTAssertEqual(averagePool2d(x, kernel: (2, 2), stride: (3, 3), padding: .symmetric(1), countIncludePad: false, ceilMode: true).shape,
                       [1, 1, 2, 2])
    }

    func testMaxPoolValues() {
        let x = arange([1, 1, 5, 5])
        XCTAssertEqual(maxPool2d(x, kernel: (2, 2), stride: (2, 2), padding: .symmetric(0), dilation: (1, 1), ceilMode: true).scalars,
                       [6, 8, 9, 16, 18, 19, 21, 23, 24])
        XCTAssertEqual(maxPool2d(x, kernel: (2, 2), stride: (1, 1), padding: .symmetric(0), dilation: (2, 2), ceilMode: false).scalars,
                       [12, 13, 14, 17, 18, 19, 22, 23, 24])
        // Padding never wins, even over negative values.
        let negative = Tensor(shape: [1, 1, 4, 4], scalars: arange([16]).scalars.map { -$0 - 1 })
        XCTAssertEqual(maxPool2d(negative, kernel: (3, 3), stride: (2, 2), padding: .symmetric(1), dilation: (1, 1), ceilMode: false).scalars,
                       [-1, -2, -5, -6])
        let withNaN = Tensor(shape: [1, 1, 2, 2], scalars: [1, .nan, 3, 2])
        XCTAssert(maxPool2d(withNaN, kernel: (2, 2), stride: (2, 2), padding: .symmetric(0), dilation: (1, 1), ceilMode: false).scalars[0].isNaN)
    }

    func testWideRowsKeepNaNAndFirstMaximum() throws {
        // 40 columns: windows 0..<16 of stride 2 go through the vector path.
        var values = [Float](repeating: 1, count: 40)
        values[9] = .nan
        let x = Tensor(shape: [1, 1, 1, 40], scalars: values, requiresGrad: true)
        for stride in [1, 2] {
            let y = maxPool2d(x, kernel: (1, 3), stride: (1, stride), padding: .symmetric(0), dilation: (1, 1), ceilMode: false)
            for (o, v) in y.scalars.enumerated() {
                let window = (o * stride)..<(o * stride + 3)
                XCTAssertEqual(v.isNaN, window.contains(9), "stride \(stride) window \(o)")
            }
            try y.backward()
            // Each window's gradient goes to its NaN, else to its first (tied) element.
            var expected = [Float](repeating: 0, count: 40)
            for o in 0..<y.count { expected[(o * stride..<o * stride + 3).contains(9) ? 9 : o * stride] += 1 }
            XCTAssertEqual(x.grad!.scalars, expected, "stride \(stride)")
        }
    }

    func testMaxPoolGradientGoesToTheFirstMaximum() throws {
        let ties = Tensor(shape: [1, 1, 2, 2], scalars: [1, 3, 3, 2], requiresGrad: true)
        try maxPool2d(ties, kernel: (2, 2), stride: (2, 2), padding: .symmetric(0), dilation: (1, 1), ceilMode: false).backward()
        XCTAssertEqual(ties.grad!.scalars, [0, 1, 0, 0])
        // Overlapping windows that share their maximum add their gradients there.
        let peak = Tensor(shape: [1, 1, 3, 3], scalars: [0, 0, 0, 0, 9, 0, 0, 0, 0], requiresGrad: true)
        try maxPool2d(peak, kernel: (2, 2), stride: (1, 1), padding: .symmetric(0), dilation: (1, 1), ceilMode: false).backward()
        XCTAssertEqual(peak.grad!.scalars, [0, 0, 0, 0, 4, 0, 0, 0, 0])
    }

    func testMatchesTapByTapReference() {
        // Narrow rows take the scalar path; rows of 70 also the 16-window vector path.
        for x in [randomTensor([2, 3, 9, 11], seed: 1, scale: 2), randomTensor([1, 2, 9, 70], seed: 2, scale: 2)] {
            compareWithTapByTap(x)
        }
    }

    private func compareWithTapByTap(_ x: Tensor) {
        let paddings = [Padding2D.symmetric(0), Padding2D(top: 1, bottom: 0, left: 0, right: 1), .symmetric(1, 2)]
        for (kernel, stride) in [((3, 2), (2, 3)), ((2, 2), (2, 2)), ((3, 3), (1, 1)), ((4, 3), (3, 2))] {
            for p in paddings where p.top <= kernel.0 / 2 && p.left <= kernel.1 / 2 && p.right <= kernel.1 / 2 {
                for ceil in [false, true] {
                    for include in [false, true] {
                        let expected = naivePool(x, kernel: kernel, stride: stride, padding: p, dilation: (1, 1), ceil: ceil,
                                                 average: true, countIncludePad: include)
                        assertClose(averagePool2d(x, kernel: kernel, stride: stride, padding: p, countIncludePad: include, ceilMode: ceil),
                                    expected.values, shape: expected.shape, tolerance: 1e-6)
                    }
                    for dilation in [(1, 1), (2, 1)] {
                        let expected = naivePool(x, kernel: kernel, stride: stride, padding: p, dilation: dilation, ceil: ceil,
                                                 average: false, countIncludePad: false)
                        let y = maxPool2d(x, kernel: kernel, stride: stride, padding: p, dilation: dilation, ceilMode: ceil)
                        XCTAssertEqual(y.shape, expected.shape)
                        XCTAssertEqual(y.scalars, expected.values, "kernel \(kernel) stride \(stride) \(p) dilation \(dilation) ceil \(ceil)")
                    }
                }
            }
        }
    }

    func testGradientsMatchFiniteDifferences() {
        let x = distinct([2, 2, 7, 6], seed: 2)
        let p = Padding2D(top: 1, bottom: 0, left: 1, right: 1)
        for ceil in [false, true] {
            for include in [false, true] {
                assertGradientsMatchFiniteDifferences([x]) {
                    averagePool2d($0[0], kernel: (3, 3), stride: (2, 2), padding: p, countIncludePad: include, ceilMode: ceil)
                }
            }
            assertGradientsMatchFiniteDifferences([x]) {
                maxPool2d($0[0], kernel: (3, 2), stride: (2, 1), padding: p, dilation: (1, 2), ceilMode: ceil)
            }
        }
    }

    func testBitIdenticalWithOneAndTwoThreads() {
        let x = randomTensor([2, 32, 56, 56], seed: 3, requiresGrad: true)
        let (one, two) = bitsWithOneAndTwoThreads {
            let a = averagePool2d(x, kernel: (3, 3), stride: (2, 2), padding: .symmetric(1), countIncludePad: false, ceilMode: true)
            let m = maxPool2d(x, kernel: (3, 3), stride: (2, 2), padding: .symmetric(1), dilation: (1, 1), ceilMode: false)
            let all = [0, 1, 2, 3]
            try? (reduce(a * a, .sum, axes: all, keepDims: false) + reduce(m * m, .sum, axes: all, keepDims: false)).backward()
            return a.scalars + m.scalars + x.grad!.scalars
        }
        XCTAssertEqual(one, two)
    }
}
