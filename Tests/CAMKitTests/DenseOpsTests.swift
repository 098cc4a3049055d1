import Foundation
import XCTest
@testable import CAMKit

/// |a - b| <= tolerance * max(1, |b|) elementwise.
func assertClose(_ a: Tensor, _ expected: [Float], shape: [Int]? = nil, tolerance: Float = 1e-5,
                 file: StaticString = #filePath, line: UInt = #line) {
    if let shape { XCTAssertEqual(a.shape, shape, file: file, line: line) }
    XCTAssertEqual(a.count, expected.count, "element count", file: file, line: line)
    for (i, (x, y)) in zip(a.scalars, expected).enumerated() where !(abs(x - y) <= tolerance * max(1, abs(y))) {
        XCTFail("element \(i): \(x) vs expected \(y)", file: file, line: line)
        return
    }
}

/// A random tensor whose elements stay at least `margin` away from the kinks in `kinks`,
/// so finite differences do not straddle them.
func awayFrom(_ kinks: [Float], _ shape: [Int], seed: UInt64, scale: Float = 3, margin: Float = 0.1) -> Tensor {
    let values = randomTensor(shape, seed: seed, scale: scale).scalars.map { v -> Float in
        var v = v
        for k in kinks where abs(v - k) < margin { v = k + (v < k ? -margin : margin) }
        return v
    }
    return Tensor(shape: shape, scalars: values, requiresGrad: true)
}

/// Naive (B?, M, N) product of row-major operands for checking sgemm calls.
func naiveMatmul(_ a: Tensor, _ b: Tensor, transposeA: Bool, transposeB: Bool) -> [Float] {
    let batch = a.rank == 3 ? a.shape[0] : 1
    let (ar, ac) = (a.shape[a.rank - 2], a.shape[a.rank - 1]), (br, bc) = (b.shape[b.rank - 2], b.shape[b.rank - 1])
    let (m, k) = transposeA ? (ac, ar) : (ar, ac), n = transposeB ? br : bc
    var out: [Float] = []
    for t in 0..<batch {
        let oa = t * ar * ac, ob = b.rank == 3 ? t * br * bc : 0
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k {
                    let x = a.scalars[oa + (transposeA ? p * ac + i : i * ac + p)]
                    let y = b.scalars[ob + (transposeB ? j * bc + p : p * bc + j)]
                    s += Double(x) * Double(y)
                }
                out.append(Float(s))
            }
        }
    }
    return out
}

final class ActivationTests: XCTestCase {
    func testVectorErfWithinOneMillionthOfFoundationErf() {
        var worst = 0.0
        var values: [Float] = stride(from: -6.0, through: 6.0, by: 1e-4).map { Float($0) }
        values += [-1e30, -100, -10, -7, 7, 10, 100, 1e30, -.infinity, .infinity, .leastNormalMagnitude, -0.0]
        for start in stride(from: 0, to: values.count, by: 16) {
            let chunk = Array(values[start..<min(start + 16, values.count)])
            let lanes = loadPartial(chunk, chunk.count)
            let result = verf(lanes)
            for (i, x) in chunk.enumerated() { worst = max(worst, abs(Double(result[i]) - erf(Double(x)))) }
        }
        XCTAssertLessThanOrEqual(worst, 1e-6)
    }

    func testVectorExpRelativeError() {
        var worst = 0.0
        let values: [Float] = stride(from: -87.0, through: 87.0, by: 0.001).map { Float($0) }
        for start in stride(from: 0, to: values.count, by: 16) {
            let chunk = Array(values[start..<min(start + 16, values.count)])
            let result = vexp(loadPartial(chunk, chunk.count))
            for (i, x) in chunk.enumerated() {
                let exact = exp(Double(x))
                worst = max(worst, abs(Double(result[i]) - exact) / exact)
            }
        }
        XCTAssertLessThan(worst, 3e-7)
    }

    func testGELUMatchesTorch() {
        let x = Tensor(shape: [8], scalars: [-3.0, -1.5, -0.3, 0.0, 0.2, 1.0, 2.5, 4.0])
        // torch.nn.functional.gelu
        assertClose(gelu(x), [-0.004050225019454956, -0.10021086037158966, -0.11462657898664474, 0.0,
                              0.11585193872451782, 0.8413447141647339, 2.48447585105896, 3.999873638153076],
                    tolerance: 1e-6)
    }

    func testGELUMatchesDoublePrecisionReferenceOnLargeTensor() {
        // Large enough to be split over cores, with a tail that is not a whole vector.
        let x = randomTensor([3, 70_001], seed: 1, scale: 8)
        let reference = x.scalars.map { v in Float(0.5 * Double(v) * (1 + erf(Double(v) / 2.0.squareRoot()))) }
        let y = gelu(x)
        for (a, b) in zip(y.scalars, reference) { XCTAssertLessThan(abs(a - b), 2e-6 * max(1, abs(b))) }
    }

    func testReLUAndReLU6() {
        let x = Tensor(shape: [7], scalars: [-2, -0.0, 0.5, 3, 6, 6.5, 100])
        XCTAssertEqual(relu(x).scalars, [0, 0, 0.5, 3, 6, 6.5, 100])
        XCTAssertEqual(relu6(x).scalars, [0, 0, 0.5, 3, 6, 6, 6])
    }

    func testActivationGradients() {
        assertGradientsMatchFiniteDifferences([awayFrom([], [5, 13], seed: 2)]) { gelu($0[0]) }
        assertGradientsMatchFiniteDifferences([awayFrom([0], [5, 13], seed: 3)]) { relu($0[0]) }
        assertGradientsMatchFiniteDifferences([awayFrom([0, 6], [5, 13], seed: 4, scale: 8)]) { relu6($0[0]) }
    }

    func testGELUGradientAgainstClosedForm() throws {
        let x = randomTensor([100], seed: 5, scale: 5, requiresGrad: true)
        try gelu(x).backward()
        for (v, g) in zip(x.scalars.map(Double.init), x.grad!.scalars) {
            let expected = 0.5 * (1 + erf(v / 2.0.squareRoot())) + v * exp(-v * v / 2) / (2 * Double.pi).squareRoot()
            XCTAssertEqual(Double(g), expected, accuracy: 2e-6)
        }
    }
}

/// `values` as one vector, zero-padded.
private func loadPartial(_ values: [Float], _ n: Int) -> FloatVector {
    values.withUnsafeBufferPointer { CAMKit.loadPartial($0.baseAddress!, n) }
}

final class MatMulTests: XCTestCase {
    func testTwoDimensionalAllTransposes() {
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let a = randomTensor(ta ? [4, 3] : [3, 4], seed: 1), b = randomTensor(tb ? [5, 4] : [4, 5], seed: 2)
            assertClose(matmul(a, b, transposeA: ta, transposeB: tb), naiveMatmul(a, b, transposeA: ta, transposeB: tb),
                        shape: [3, 5])
        }
    }

    func testBatchedAllTransposesAndSharedRightOperand() {
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let a = randomTensor(ta ? [2, 4, 3] : [2, 3, 4], seed: 3)
            for b in [randomTensor(tb ? [2, 5, 4] : [2, 4, 5], seed: 4), randomTensor(tb ? [5, 4] : [4, 5], seed: 5)] {
                assertClose(matmul(a, b, transposeA: ta, transposeB: tb),
                            naiveMatmul(a, b, transposeA: ta, transposeB: tb), shape: [2, 3, 5])
            }
        }
    }

    func testMatmulGradients() {
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let a2 = randomTensor(ta ? [4, 3] : [3, 4], seed: 6, requiresGrad: true)
            let b2 = randomTensor(tb ? [5, 4] : [4, 5], seed: 7, requiresGrad: true)
            assertGradientsMatchFiniteDifferences([a2, b2]) { matmul($0[0], $0[1], transposeA: ta, transposeB: tb) }
            let a3 = randomTensor(ta ? [2, 4, 3] : [2, 3, 4], seed: 8, requiresGrad: true)
            let b3 = randomTensor(tb ? [2, 5, 4] : [2, 4, 5], seed: 9, requiresGrad: true)
            assertGradientsMatchFiniteDifferences([a3, b3]) { matmul($0[0], $0[1], transposeA: ta, transposeB: tb) }
            let a4 = randomTensor(ta ? [2, 4, 3] : [2, 3, 4], seed: 10, requiresGrad: true)
            assertGradientsMatchFiniteDifferences([a4, b2.detached().requiringGrad()]) {
                matmul($0[0], $0[1], transposeA: ta, transposeB: tb)
            }
        }
    }

    func testOnlyRequestedGradientIsComputed() throws {
        let a = randomTensor([3, 4], seed: 11, requiresGrad: true), b = randomTensor([4, 2], seed: 12)
        try matmul(a, b).backward()
        XCTAssertNotNil(a.grad)
        XCTAssertNil(b.grad)
    }

    func testLinearMatchesNaiveWithAndWithoutBias() {
        let x = randomTensor([2, 3, 6], seed: 13), w = randomTensor([4, 6], seed: 14), b = randomTensor([4], seed: 15)
        let plain = naiveMatmul(x.reshaped([6, 6]), w, transposeA: false, transposeB: true)
        assertClose(linear(x, weight: w, bias: nil), plain, shape: [2, 3, 4])
        assertClose(linear(x, weight: w, bias: b), plain.enumerated().map { $0.element + b.scalars[$0.offset % 4] })
        assertClose(linear(randomTensor([6], seed: 13), weight: w, bias: b),
                    Array(linear(randomTensor([1, 6], seed: 13), weight: w, bias: b).scalars), shape: [4])
    }

    func testLinearGradients() {
        let x = randomTensor([2, 3, 6], seed: 16, requiresGrad: true)
        let w = randomTensor([4, 6], seed: 17, requiresGrad: true), b = randomTensor([4], seed: 18, requiresGrad: true)
        assertGradientsMatchFiniteDifferences([x, w, b]) { linear($0[0], weight: $0[1], bias: $0[2]) }
        assertGradientsMatchFiniteDifferences([x.detached().requiringGrad(), w.detached()]) {
            linear($0[0], weight: $0[1], bias: nil)
        }
    }
}

extension Tensor {
    /// This tensor's elements as a fresh leaf that requires a gradient.
    func requiringGrad() -> Tensor { Tensor(shape: shape, scalars: scalars, requiresGrad: true) }
}
