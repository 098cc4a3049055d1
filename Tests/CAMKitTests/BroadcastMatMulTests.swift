import XCTest
@testable import CAMKit

/// numpy.matmul in double, batch entries found by broadcasting each index tuple.
private func naiveBroadcastMatmul(_ a: Tensor, _ b: Tensor) -> (shape: [Int], values: [Float]) {
    let sa = a.rank == 1 ? [1] + a.shape : a.shape, sb = b.rank == 1 ? b.shape + [1] : b.shape
    let (m, k, n) = (sa[sa.count - 2], sa[sa.count - 1], sb[sb.count - 1])
    let batchA = Array(sa.dropLast(2)), batchB = Array(sb.dropLast(2))
    let batch = numpyBroadcast(batchA, batchB)
    func entry(_ shape: [Int], _ index: [Int]) -> Int {
        let lead = index.count - shape.count
        return shape.indices.reduce(0) { $0 * shape[$1] + (shape[$1] == 1 ? 0 : index[lead + $1]) }
    }
    var values: [Float] = []
    for index in indexTuples(batch) {
        let oa = entry(batchA, index) * m * k, ob = entry(batchB, index) * k * n
        for i in 0..<m {
            for j in 0..<n {
                values.append(Float((0..<k).reduce(0.0) { $0 + Double(a.scalars[oa + i * k + $1]) * Double(b.scalars[ob + $1 * n + j]) }))
            }
        }
    }
    return (batch + (a.rank > 1 ? [m] : []) + (b.rank > 1 ? [n] : []), values)
}

private let shapePairs: [([Int], [Int])] = [
    ([3, 4], [4, 5]), ([4], [4, 5]), ([3, 4], [4]), ([4], [4]), ([2, 3, 4], [4, 5]), ([4], [2, 4, 5]),
    ([2, 1, 3, 4], [3, 4, 5]), ([3, 4], [2, 4, 5]), ([2, 3, 4], [2, 4, 5]), ([2, 3, 4], [4]), ([1, 3, 4], [2, 1, 4, 2]),
    ([2, 3, 4], [1, 4, 5]),
]

final class BroadcastMatMulTests: XCTestCase {
    func testMatchesNumpySemantics() {
        for (k, (sa, sb)) in shapePairs.enumerated() {
            let a = randomTensor(sa, seed: UInt64(k)), b = randomTensor(sb, seed: UInt64(k + 40))
            let expected = naiveBroadcastMatmul(a, b)
            assertClose(matmulBroadcast(a, b), expected.values, shape: expected.shape, tolerance: 2e-6)
        }
        XCTAssertEqual(matmulBroadcast(Tensor(shape: [4], scalars: [1, 2, 3, 4]), Tensor(shape: [4], scalars: [1, 1, 1, 2])).shape, [])
        XCTAssertEqual(matmulBroadcast(Tensor.zeros([2, 0]), Tensor.zeros([0, 3])).scalars, [Float](repeating: 0, count: 6))
        XCTAssertEqual(matmulBroadcast(Tensor.zeros([0, 2, 3]), Tensor.zeros([3, 4])).shape, [0, 2, 4])
    }

    func testAgreesBitForBitWithMatmul() {
        let a = randomTensor([3, 17, 33], seed: 1), shared = randomTensor([33, 9], seed: 2), batched = randomTensor([3, 33, 9], seed: 3)
        XCTAssertEqual(matmulBroadcast(a, shared).scalars, matmul(a, shared).scalars)
        XCTAssertEqual(matmulBroadcast(a, batched).scalars, matmul(a, batched).scalars)
        XCTAssertEqual(matmulBroadcast(a.reshaped([51, 33]), shared).scalars, matmul(a.reshaped([51, 33]), shared).scalars)
    }

    func testGradients() {
        for (k, (sa, sb)) in shapePairs.enumerated() {
            let a = randomTensor(sa, seed: UInt64(k + 80), requiresGrad: true), b = randomTensor(sb, seed: UInt64(k + 90), requiresGrad: true)
            assertGradientsMatchFiniteDifferences([a, b]) { matmulBroadcast($0[0], $0[1]) }
        }
        // Only the requested gradient.
        let a = randomTensor([2, 3, 4], seed: 5, requiresGrad: true), w = randomTensor([4, 5], seed: 6)
        XCTAssertNoThrow(try matmulBroadcast(a, w).backward())
        XCTAssertNotNil(a.grad)
        XCTAssertNil(w.grad)
    }

    func testSharedOperandGradientsAreSumsOverTheBatch() throws {
        let a = randomTensor([3, 2, 4], seed: 7, requiresGrad: true), w = randomTensor([4, 5], seed: 8, requiresGrad: true)
        try matmulBroadcast(a, w).backward()
        // dW = Σ_batch aᵀ · ones, dA = ones · Wᵀ.
        let columnSums = (0..<4).map { p in (0..<6).reduce(Float(0)) { $0 + a.scalars[$1 * 4 + p] } }
        assertClose(w.grad!, (0..<20).map { columnSums[$0 / 5] }, shape: [4, 5])
        let rowSums = (0..<4).map { p in (0..<5).reduce(Float(0)) { $0 + w.scalars[p * 5 + $1] } }
        assertClose(a.grad!, (0..<24).map { rowSums[$0 % 4] }, shape: [3, 2, 4])
    }

    func testBitIdenticalWithOneAndTwoThreads() {
        // Many single-tile products (attention heads), and one big shared-weight product.
        let q = randomTensor([64, 49, 32], seed: 9, requiresGrad: true), kT = randomTensor([64, 32, 49], seed: 10, requiresGrad: true)
        let x = randomTensor([2, 197, 96], seed: 11, requiresGrad: true), w = randomTensor([96, 300], seed: 12, requiresGrad: true)
        let (one, two) = bitsWithOneAndTwoThreads {
            let scores = matmulBroadcast(q, kT), projected = matmulBroadcast(x, w)
            try? scores.backward(seed: randomTensor(scores.shape, seed: 13))
            try? projected.backward(seed: randomTensor(projected.shape, seed: 14))
            return scores.scalars + projected.scalars + q.grad!.scalars + kT.grad!.scalars + x.grad!.scalars + w.grad!.scalars
        }
        XCTAssertEqual(one, two)
    }
}
