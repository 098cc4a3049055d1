import XCTest
@testable import CAMKit

/// 0, 1, 2, … in `shape`.
func arange(_ shape: [Int]) -> Tensor { Tensor(shape: shape, scalars: (0..<shape.product).map(Float.init)) }

/// The gradient of sum(f(x)) at `x`.
func gradientOfSum(_ x: Tensor, _ f: (Tensor) -> Tensor) throws -> [Float] {
    let leaf = x.detached().requiringGrad()
    try f(leaf).backward()
    return leaf.grad!.scalars
}

final class IndexingTests: XCTestCase {
    func testSliceWithPositiveAndNegativeSteps() {
        let x = arange([2, 3, 4])
        // x[0:2, 1:3, 0:4:2]
        let a = slice(x, starts: [0, 1, 0], ends: [2, 3, 4], steps: [1, 1, 2])
        XCTAssertEqual(a.shape, [2, 2, 2])
        XCTAssertEqual(a.scalars, [4, 6, 8, 10, 16, 18, 20, 22])
        // x[1::-1, 2::-2, 3:0:-3]: axis 0 → 1, 0; axis 1 → 2, 0; axis 2 → 3 (end -1 means through index 0).
        let b = slice(x, starts: [1, 2, 3], ends: [-1, -1, 0], steps: [-1, -2, -3])
        XCTAssertEqual(b.shape, [2, 2, 1])
        XCTAssertEqual(b.scalars, [23, 15, 11, 3])
        // x[:, ::-1, -1:] and an empty slice.
        let c = slice(x, starts: [0, 2, 3], ends: [2, -1, 4], steps: [1, -1, 1])
        XCTAssertEqual(c.scalars, [11, 7, 3, 23, 19, 15])
        XCTAssertEqual(slice(x, starts: [0, 2, 0], ends: [2, 2, 4], steps: [1, 1, 1]).shape, [2, 0, 4])
        XCTAssertEqual(slice(x, starts: [1, 0, 0], ends: [1, 3, 4], steps: [-1, 1, 1]).shape, [0, 3, 4])
        XCTAssertEqual(slice(Tensor(shape: [], scalars: [5]), starts: [], ends: [], steps: []).scalars, [5])
    }

    func testSliceGradientScattersIntoZeros() throws {
        let x = arange([2, 3, 4])
        let g = try gradientOfSum(x) { slice($0, starts: [1, 2, 3], ends: [-1, -1, 0], steps: [-1, -2, -3]) }
        XCTAssertEqual(g, (0..<24).map { [3, 11, 15, 23].contains($0) ? 1 : 0 })
        assertGradientsMatchFiniteDifferences([randomTensor([3, 4, 5], seed: 1, requiresGrad: true)]) {
            slice($0[0], starts: [2, 0, 1], ends: [-1, 4, 5], steps: [-2, 3, 2])
        }
    }

    func testGatherShapesAndValues() {
        let x = arange([2, 3, 4])
        let a = gather(x, axis: 1, indices: [2, 0, 2], indicesShape: [3])
        XCTAssertEqual(a.shape, [2, 3, 4])
        XCTAssertEqual(Array(a.scalars[0..<12]), [8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11])
        // A scalar index drops the axis, as the class-token Gather of a ViT.
        let token = gather(x, axis: 1, indices: [0], indicesShape: [])
        XCTAssertEqual(token.shape, [2, 4])
        XCTAssertEqual(token.scalars, [0, 1, 2, 3, 12, 13, 14, 15])
        let grid = gather(x, axis: 2, indices: [3, 0, 1, 1], indicesShape: [2, 2])
        XCTAssertEqual(grid.shape, [2, 3, 2, 2])
        XCTAssertEqual(Array(grid.scalars[0..<8]), [3, 0, 1, 1, 7, 4, 5, 5])
        XCTAssertEqual(gather(x, axis: 0, indices: [1], indicesShape: [1]).scalars, Array(x.scalars[12...]))
    }

    func testGatherGradientAddsRepeatedIndices() throws {
        let g = try gradientOfSum(arange([2, 3])) { gather($0, axis: 1, indices: [2, 0, 2, 2], indicesShape: [2, 2]) }
        XCTAssertEqual(g, [1, 0, 3, 1, 0, 3])
        assertGradientsMatchFiniteDifferences([randomTensor([2, 3, 4], seed: 2, requiresGrad: true)]) {
            gather($0[0], axis: 1, indices: [1, 1, 0], indicesShape: [3])
        }
    }

    func testExpand() throws {
        let x = Tensor(shape: [3, 1], scalars: [1, 2, 3])
        let y = expand(x, to: [2, 3, 4])
        XCTAssertEqual(y.shape, [2, 3, 4])
        XCTAssertEqual(y.scalars, indexTuples([2, 3, 4]).map { Float($0[1] + 1) })
        XCTAssertEqual(try gradientOfSum(x) { expand($0, to: [2, 3, 4]) }, [8, 8, 8])
        XCTAssertEqual(expand(x, to: [3, 1]).scalars, x.scalars)
        assertGradientsMatchFiniteDifferences([randomTensor([1, 3, 1], seed: 3, requiresGrad: true)]) { expand($0[0], to: [2, 3, 5]) }
    }

    func testSelectBroadcastsAllThree() throws {
        let condition = [true, false, false, true, true, false], conditionShape = [2, 1, 3]
        let a = Tensor(shape: [4, 1], scalars: [10, 20, 30, 40]), b = Tensor(shape: [], scalars: [-1])
        let y = select(condition, conditionShape: conditionShape, a, b)
        XCTAssertEqual(y.shape, [2, 4, 3])
        XCTAssertEqual(y.scalars, indexTuples([2, 4, 3]).map { i in condition[i[0] * 3 + i[2]] ? Float(10 * (i[1] + 1)) : -1 })
        let leafA = a.detached().requiringGrad(), leafB = b.detached().requiringGrad()
        try select(condition, conditionShape: conditionShape, leafA, leafB).backward()
        XCTAssertEqual(leafA.grad!.scalars, [3, 3, 3, 3], "true conditions per element of a")
        XCTAssertEqual(leafB.grad!.scalars, [12], "false conditions over the whole output")
        let x = randomTensor([2, 3], seed: 4, requiresGrad: true), z = randomTensor([3], seed: 5, requiresGrad: true)
        assertGradientsMatchFiniteDifferences([x, z]) { select([false, true, true], conditionShape: [3], $0[0], $0[1]) }
    }

    func testParallelCopiesAreBitIdenticalWithOneAndTwoThreads() {
        let a = randomTensor([2, 64, 30, 30], seed: 6), b = randomTensor([64, 1, 1], seed: 7)
        let condition = (0..<(30 * 30)).map { $0 % 3 == 0 }
        let (one, two) = bitsWithOneAndTwoThreads {
            select(condition, conditionShape: [30, 30], a, b).scalars + expand(b, to: [2, 64, 30, 30]).scalars
        }
        XCTAssertEqual(one, two)
    }
}
