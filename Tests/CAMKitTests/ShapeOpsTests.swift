import XCTest
import CAMKit

/// Naive permutation by index arithmetic.
private func naivePermute(_ x: Tensor, _ dims: [Int]) -> [Float] {
    let outShape = dims.map { x.shape[$0] }
    var strides = [Int](repeating: 1, count: x.rank)
    for d in stride(from: x.rank - 2, through: 0, by: -1) { strides[d] = strides[d + 1] * x.shape[d + 1] }
    return (0..<x.count).map { flat in
        var rest = flat, offset = 0
        for d in stride(from: outShape.count - 1, through: 0, by: -1) {
            offset += (rest % outShape[d]) * strides[dims[d]]
            rest /= outShape[d]
        }
        return x.scalars[offset]
    }
}

final class ShapeOpsTests: XCTestCase {
    func testReshapeInfersOneDimension() throws {
        let x = randomTensor([2, 3, 4], seed: 1, requiresGrad: true)
        let y = x.reshaped([4, -1])
        XCTAssertEqual(y.shape, [4, 6])
        XCTAssertEqual(y.scalars, x.scalars)
        try (y * y).backward()
        XCTAssertEqual(x.grad?.shape, [2, 3, 4])
        XCTAssertEqual(x.grad?.scalars, x.scalars.map { 2 * $0 })
    }

    func testPermuteMatchesNaive() {
        let x = randomTensor([2, 3, 4, 5], seed: 2)
        for dims in [[0, 2, 3, 1], [0, 3, 1, 2], [3, 2, 1, 0], [1, 0, 2, 3], [0, 1, 2, 3], [2, 0, 3, 1]] {
            let y = x.permuted(dims)
            XCTAssertEqual(y.shape, dims.map { x.shape[$0] })
            XCTAssertEqual(y.scalars, naivePermute(x, dims), "\(dims)")
        }
        let big = randomTensor([1, 37, 19, 21], seed: 3)
        XCTAssertEqual(big.permuted([0, 2, 3, 1]).scalars, naivePermute(big, [0, 2, 3, 1]))
        let ones = randomTensor([1, 5, 1, 3], seed: 4)
        XCTAssertEqual(ones.permuted([2, 3, 0, 1]).scalars, naivePermute(ones, [2, 3, 0, 1]))
        XCTAssertEqual(randomTensor([3, 4], seed: 5).permuted([-1, 0]).shape, [4, 3])
    }

    func testPermuteAndReshapeGradients() {
        let x = randomTensor([2, 3, 4], seed: 6, requiresGrad: true)
        assertGradientsMatchFiniteDifferences([x]) { $0[0].permuted([2, 0, 1]) }
        assertGradientsMatchFiniteDifferences([x]) { $0[0].reshaped([-1, 2]) }
    }

    func testConcatAlongEveryAxis() {
        let a = Tensor(shape: [2, 2], scalars: [1, 2, 3, 4]), b = Tensor(shape: [2, 1], scalars: [5, 6])
        XCTAssertEqual(concat([a, b], axis: 1).scalars, [1, 2, 5, 3, 4, 6])
        XCTAssertEqual(concat([a, b], axis: -1).shape, [2, 3])
        let c = Tensor(shape: [1, 2], scalars: [7, 8])
        XCTAssertEqual(concat([a, c], axis: 0).scalars, [1, 2, 3, 4, 7, 8])
        XCTAssertEqual(concat([a], axis: 0).scalars, a.scalars)
    }

    func testConcatGradients() {
        let a = randomTensor([2, 3, 2], seed: 7, requiresGrad: true), b = randomTensor([2, 1, 2], seed: 8, requiresGrad: true)
        let c = randomTensor([2, 2, 2], seed: 9)
        assertGradientsMatchFiniteDifferences([a, b, c]) { concat($0, axis: 1) }
    }

    func testSumAndMeanAlongAxes() {
        let x = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(x.sum(axis: 0).scalars, [5, 7, 9])
        XCTAssertEqual(x.sum(axis: 1).scalars, [6, 15])
        XCTAssertEqual(x.sum(axis: -1, keepDims: true).shape, [2, 1])
        XCTAssertEqual(x.mean(axis: 0, keepDims: true).shape, [1, 3])
        XCTAssertEqual(x.mean(axis: -2).scalars, [2.5, 3.5, 4.5])
        XCTAssertEqual(x.mean(axis: 1).scalars, [2, 5])
        let y = randomTensor([3, 50, 2], seed: 10)
        var expected = [Float](repeating: 0, count: 6)
        for i in 0..<3 { for j in 0..<50 { for k in 0..<2 { expected[i * 2 + k] += y.scalars[(i * 50 + j) * 2 + k] } } }
        assertClose(y.sum(axis: 1), expected, shape: [3, 2])
    }

    func testReductionGradients() {
        let x = randomTensor([2, 3, 4], seed: 11, requiresGrad: true)
        for axis in [0, 1, 2, -1] {
            assertGradientsMatchFiniteDifferences([x]) { $0[0].sum(axis: axis) }
            assertGradientsMatchFiniteDifferences([x]) { $0[0].mean(axis: axis, keepDims: true) }
        }
    }

    func testSoftmaxMatchesTorch() {
        let x = Tensor(shape: [2, 4], scalars: [0.3, -1.2, 2.0, 0.7, 5.0, 5.1, 4.9, 5.3])
        assertClose(softmax(x), [0.12211649119853973, 0.027247872203588486, 0.6684592962265015, 0.18217642605304718,
                                 0.2293647825717926, 0.2534872591495514, 0.20753785967826843, 0.30961012840270996],
                    tolerance: 1e-6)
        assertClose(softmax(x, axis: 0), [0.009013299830257893, 0.0018329386366531253, 0.052153561264276505,
                                          0.009951797313988209, 0.9909866452217102, 0.9981670379638672,
                                          0.9478464722633362, 0.9900481700897217], tolerance: 1e-6)
    }

    func testSoftmaxOverMiddleAxisMatchesNaive() {
        let x = randomTensor([2, 5, 19], seed: 12, scale: 20)
        var expected = [Float](repeating: 0, count: x.count)
        for o in 0..<2 {
            for i in 0..<19 {
                let v = (0..<5).map { Double(x.scalars[(o * 5 + $0) * 19 + i]) }
                let m = v.max()!, s = v.map { exp($0 - m) }.reduce(0, +)
                for j in 0..<5 { expected[(o * 5 + j) * 19 + i] = Float(exp(v[j] - m) / s) }
            }
        }
        assertClose(softmax(x, axis: 1), expected, tolerance: 1e-6)
        assertClose(softmax(x, axis: -2), expected, tolerance: 1e-6)
    }

    func testSoftmaxGradients() {
        let x = randomTensor([3, 4, 5], seed: 13, requiresGrad: true)
        for axis in [0, 1, -1] { assertGradientsMatchFiniteDifferences([x]) { softmax($0[0], axis: axis) } }
    }
}
