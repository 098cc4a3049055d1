import Foundation
import XCTest
@testable import CAMKit

/// Every index tuple of `shape`, in row-major order.
func indexTuples(_ shape: [Int]) -> [[Int]] {
    guard shape.product > 0 else { return [] }
    var tuples: [[Int]] = [], index = [Int](repeating: 0, count: shape.count)
    for _ in 0..<shape.product {
        tuples.append(index)
        var d = shape.count - 1
        while d >= 0 { index[d] += 1; if index[d] < shape[d] { break }; index[d] = 0; d -= 1 }
    }
    return tuples
}

/// The element of `t` that output index `index` reads under NumPy broadcasting.
func broadcastElement(_ t: Tensor, _ index: [Int]) -> Float {
    let lead = index.count - t.rank
    var flat = 0
    for d in 0..<t.rank { flat = flat * t.shape[d] + (t.shape[d] == 1 ? 0 : index[lead + d]) }
    return t.scalars[flat]
}

/// The NumPy broadcast shape, written out independently of the runtime's.
func numpyBroadcast(_ a: [Int], _ b: [Int]) -> [Int] {
    let rank = max(a.count, b.count)
    return (0..<rank).map { d -> Int in
        let x = d - (rank - a.count) >= 0 ? a[d - (rank - a.count)] : 1
        let y = d - (rank - b.count) >= 0 ? b[d - (rank - b.count)] : 1
        return x == 1 ? y : x
    }
}

/// Runs `body` with one and with two compute threads and returns both results' bit patterns.
func bitsWithOneAndTwoThreads(_ body: () -> [Float]) -> ([UInt32], [UInt32]) {
    let saved = ComputeThreads.count
    defer { ComputeThreads.count = saved }
    ComputeThreads.count = 1
    let one = body().map(\.bitPattern)
    ComputeThreads.count = 2
    return (one, body().map(\.bitPattern))
}

/// The operand shapes the broadcasting fast paths and the general walk see.
private let shapePairs: [([Int], [Int])] = [
    ([2, 3, 4, 5], [2, 3, 4, 5]), ([2, 3, 4, 5], []), ([], [3, 4]), ([2, 3, 4, 5], [2, 3, 1, 1]),
    ([2, 3, 4, 5], [5]), ([2, 3, 1, 5], [1, 3, 4, 1]), ([4, 1], [3]), ([1], [1]), ([2, 3, 4, 5], [1, 3, 1, 1]),
    ([1, 3, 1, 1], [2, 3, 4, 5]), ([2, 40, 9, 9], [2, 40, 1, 1]), ([3, 0, 2], [1, 2]), ([7, 33], [33]),
]

final class BroadcastOpsTests: XCTestCase {
    func testArithmeticMatchesElementwiseReferenceForEveryLayout() {
        let ops: [(String, (Tensor, Tensor) -> Tensor, (Float, Float) -> Float)] = [
            ("+", { $0 + $1 }, { $0 + $1 }), ("-", { $0 - $1 }, { $0 - $1 }),
            ("*", { $0 * $1 }, { $0 * $1 }), ("/", { $0 / $1 }, { $0 / $1 }),
            ("pow", { pow($0, $1) }, { Foundation.pow($0, $1) }),
        ]
        for (k, (sa, sb)) in shapePairs.enumerated() {
            // Positive bases keep pow real.
            let a = Tensor(shape: sa, scalars: randomTensor(sa, seed: UInt64(k)).scalars.map { $0 + 1.5 })
            let b = randomTensor(sb, seed: UInt64(k + 50), scale: 2)
            let shape = numpyBroadcast(sa, sb)
            for (name, op, reference) in ops {
                let y = op(a, b)
                XCTAssertEqual(y.shape, shape, "\(sa) \(name) \(sb)")
                let expected = indexTuples(shape).map { reference(broadcastElement(a, $0), broadcastElement(b, $0)) }
                XCTAssertEqual(y.scalars.map(\.bitPattern), expected.map(\.bitPattern), "\(sa) \(name) \(sb)")
            }
        }
    }

    func testPowWithScalarExponentsAsTorch() {
        let x = randomTensor([3, 37], seed: 1, scale: 4)
        let positive = Tensor(shape: x.shape, scalars: x.scalars.map(abs))
        XCTAssertEqual(pow(x, Tensor(shape: [], scalars: [2])).scalars, x.scalars.map { $0 * $0 })
        XCTAssertEqual(pow(x, Tensor(shape: [1, 1], scalars: [3])).scalars, x.scalars.map { $0 * $0 * $0 })
        XCTAssertEqual(pow(positive, Tensor(shape: [1], scalars: [0.5])).scalars, positive.scalars.map { $0.squareRoot() })
        XCTAssertEqual(pow(x, Tensor(shape: [], scalars: [2])).shape, [3, 37])
        // A scalar of higher rank than the base still broadcasts the base up.
        XCTAssertEqual(pow(Tensor(shape: [2], scalars: [3, 4]), Tensor(shape: [1, 1], scalars: [2])).shape, [1, 2])
        assertClose(pow(positive, Tensor(shape: [], scalars: [-1.5])), positive.scalars.map { Float(Foundation.pow(Double($0), -1.5)) },
                    tolerance: 3e-7)
    }

    func testBroadcastGradients() {
        for (sa, sb) in [([2, 3, 4], [3, 1]), ([2, 3], []), ([1, 3, 1], [2, 1, 4]), ([2, 3, 4], [2, 3, 4])] {
            let a = randomTensor(sa, seed: 1, requiresGrad: true)
            let b = Tensor(shape: sb, scalars: randomTensor(sb, seed: 2).scalars.map { $0 + 2 }, requiresGrad: true)
            assertGradientsMatchFiniteDifferences([a, b]) { $0[0] + $0[1] }
            assertGradientsMatchFiniteDifferences([a, b]) { $0[0] - $0[1] }
            assertGradientsMatchFiniteDifferences([a, b]) { $0[0] * $0[1] }
            assertGradientsMatchFiniteDifferences([a, b], epsilon: 1e-3) { $0[0] / $0[1] }
            let base = Tensor(shape: sa, scalars: a.scalars.map { $0 + 1.5 }, requiresGrad: true)
            let exponent = randomTensor(sb, seed: 3, scale: 2, requiresGrad: true)
            assertGradientsMatchFiniteDifferences([base, exponent], epsilon: 1e-3) { pow($0[0], $0[1]) }
        }
    }

    func testDivisionGradientClosedForm() throws {
        let a = randomTensor([2, 3], seed: 4, requiresGrad: true)
        let b = Tensor(shape: [3], scalars: [0.5, -2, 4], requiresGrad: true)
        try (a / b).backward()
        assertClose(a.grad!, (0..<6).map { 1 / b.scalars[$0 % 3] }, shape: [2, 3])
        let db = (0..<3).map { j -> Float in
            let (column, divisor) = (a.scalars[j] + a.scalars[3 + j], b.scalars[j])
            return -column / (divisor * divisor)
        }
        assertClose(b.grad!, db, shape: [3])
    }

    func testPowGradientsAtZeroFollowTorch() throws {
        let a = Tensor(shape: [4], scalars: [0, 0, -2, 3], requiresGrad: true)
        let b = Tensor(shape: [4], scalars: [2, 0, 2, 0], requiresGrad: true)
        try pow(a, b).backward()
        // da = b a^(b-1), 0 where b == 0; db = a^b log a, 0 where a == 0 and b >= 0, NaN for a < 0.
        XCTAssertEqual(a.grad!.scalars, [0, 0, -4, 0])
        XCTAssertEqual(Array(b.grad!.scalars[0..<2]), [0, 0])
        XCTAssert(b.grad!.scalars[2].isNaN)
        XCTAssertEqual(b.grad!.scalars[3], Float(Foundation.log(3.0)), accuracy: 1e-6)
        let x = randomTensor([5], seed: 5, requiresGrad: true)
        try pow(x, Tensor(shape: [], scalars: [3])).backward()
        assertClose(x.grad!, x.scalars.map { 3 * $0 * $0 })
    }

    func testSumToShapeMatchesNaive() {
        for (shape, target) in [([2, 3, 4, 5], [3, 1, 1]), ([2, 3, 4, 5], [1, 3, 1, 1]), ([2, 3, 4, 5], [5]),
                                ([2, 3, 4, 5], []), ([2, 3, 4, 5], [2, 1, 4, 1]), ([2, 40, 9, 9], [2, 40, 1, 1]),
                                ([3, 4], [3, 4]), ([1, 4], [4])] {
            let x = randomTensor(shape, seed: 6)
            var expected = [Double](repeating: 0, count: target.product)
            let lead = shape.count - target.count
            for (i, index) in indexTuples(shape).enumerated() {
                var flat = 0
                for d in 0..<target.count { flat = flat * target[d] + (target[d] == 1 ? 0 : index[lead + d]) }
                expected[flat] += Double(x.scalars[i])
            }
            assertClose(x.sum(toShape: target), expected.map(Float.init), shape: target, tolerance: 2e-6)
        }
    }

    func testReduceMatchesNaiveOverEveryAxisSet() {
        let shape = [2, 3, 4, 5]
        let x = randomTensor(shape, seed: 7, scale: 3)
        for axes in [[], [0], [1], [3], [1, 2], [2, 3], [0, 2], [0, 3], [0, 1, 2, 3], [0, 1, 3]] {
            let kept = shape.indices.map { axes.contains($0) ? 1 : shape[$0] }
            var sums = [Double](repeating: 0, count: kept.product)
            var maxima = [Float](repeating: -.infinity, count: kept.product)
            for (i, index) in indexTuples(shape).enumerated() {
                var flat = 0
                for d in shape.indices { flat = flat * kept[d] + (axes.contains(d) ? 0 : index[d]) }
                sums[flat] += Double(x.scalars[i])
                maxima[flat] = max(maxima[flat], x.scalars[i])
            }
            let count = Double(axes.map { shape[$0] }.product)
            let dropped = shape.indices.filter { !axes.contains($0) }.map { shape[$0] }
            for keepDims in [true, false] {
                let outShape = keepDims ? kept : dropped
                assertClose(reduce(x, .sum, axes: axes, keepDims: keepDims), sums.map(Float.init), shape: outShape, tolerance: 2e-6)
                assertClose(reduce(x, .mean, axes: axes, keepDims: keepDims), sums.map { Float($0 / count) }, shape: outShape,
                            tolerance: 2e-6)
                XCTAssertEqual(reduce(x, .max, axes: axes, keepDims: keepDims).scalars, maxima, "\(axes)")
            }
        }
    }

    func testReduceEdgeCases() {
        XCTAssertEqual(reduce(Tensor.zeros([2, 0, 3]), .sum, axes: [1], keepDims: false).scalars, [0, 0, 0, 0, 0, 0])
        let withNaN = Tensor(shape: [2, 3], scalars: [1, .nan, 3, 4, 5, -.infinity])
        let maxima = reduce(withNaN, .max, axes: [1], keepDims: false).scalars
        XCTAssert(maxima[0].isNaN)
        XCTAssertEqual(maxima[1], 5)
        let longRow = Tensor(shape: [1, 40], scalars: (0..<40).map { $0 == 33 ? .nan : Float($0) })
        XCTAssert(reduce(longRow, .max, axes: [1], keepDims: true).scalars[0].isNaN)
        XCTAssertEqual(reduce(Tensor(shape: [], scalars: [4]), .mean, axes: [], keepDims: false).scalars, [4])
    }

    func testReduceMaxGradientSplitsTiesAsTorchAmax() throws {
        let x = Tensor(shape: [2, 3], scalars: [1, 3, 3, 2, 2, 2], requiresGrad: true)
        try reduce(x, .max, axes: [1], keepDims: false).backward(seed: Tensor(shape: [2], scalars: [1, 6]))
        XCTAssertEqual(x.grad!.scalars, [0, 0.5, 0.5, 2, 2, 2])
    }

    func testReduceGradients() {
        let x = randomTensor([2, 3, 4], seed: 8, requiresGrad: true)
        for axes in [[1], [0, 2], [0, 1, 2], [2]] {
            for keepDims in [true, false] {
                for kind in [ReduceKind.sum, .mean, .max] {
                    assertGradientsMatchFiniteDifferences([x], epsilon: 1e-3) { reduce($0[0], kind, axes: axes, keepDims: keepDims) }
                }
            }
        }
    }

    func testBitIdenticalWithOneAndTwoThreads() {
        let a = randomTensor([4, 64, 28, 28], seed: 9), se = randomTensor([4, 64, 1, 1], seed: 10)
        let row = randomTensor([28], seed: 11), scalar = Tensor(shape: [], scalars: [1.5])
        let (one, two) = bitsWithOneAndTwoThreads {
            (a * se).scalars + (a + row).scalars + (a / scalar).scalars + (a - a).scalars
                + reduce(a, .mean, axes: [2, 3], keepDims: true).scalars + reduce(a, .sum, axes: [0, 2, 3], keepDims: false).scalars
                + reduce(a, .max, axes: [1], keepDims: false).scalars + a.sum(toShape: [64, 1, 1]).scalars
                + reduce(a, .sum, axes: [0, 1, 2, 3], keepDims: false).scalars
        }
        XCTAssertEqual(one, two)
    }
}
