import XCTest
import CAMKit

final class PaddingTests: XCTestCase {
    func testModesAlongOneAxis() {
        let x = Tensor(shape: [4], scalars: [1, 2, 3, 4])
        XCTAssertEqual(pad(x, before: [2], after: [3], mode: .constant(9)).scalars, [9, 9, 1, 2, 3, 4, 9, 9, 9])
        XCTAssertEqual(pad(x, before: [2], after: [3], mode: .reflect).scalars, [3, 2, 1, 2, 3, 4, 3, 2, 1])
        XCTAssertEqual(pad(x, before: [2], after: [3], mode: .edge).scalars, [1, 1, 1, 2, 3, 4, 4, 4, 4])
        // Negative pads crop first; reflect and edge then pad about the cropped edges.
        XCTAssertEqual(pad(x, before: [-1], after: [2], mode: .constant(0)).scalars, [2, 3, 4, 0, 0])
        XCTAssertEqual(pad(x, before: [-1], after: [2], mode: .reflect).scalars, [2, 3, 4, 3, 2])
        XCTAssertEqual(pad(x, before: [2], after: [-3], mode: .edge).scalars, [1, 1, 1])
        XCTAssertEqual(pad(x, before: [-2], after: [-2], mode: .constant(0)).shape, [0])
        XCTAssertEqual(pad(Tensor(shape: [0], scalars: []), before: [1], after: [1], mode: .constant(5)).scalars, [5, 5])
    }

    func testModesOverTwoAxes() {
        let x = Tensor(shape: [2, 2], scalars: [1, 2, 3, 4])
        XCTAssertEqual(pad(x, before: [1, 1], after: [1, 1], mode: .reflect).scalars,
                       [4, 3, 4, 3, 2, 1, 2, 1, 4, 3, 4, 3, 2, 1, 2, 1])
        XCTAssertEqual(pad(x, before: [1, 1], after: [1, 1], mode: .edge).scalars,
                       [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4])
        let y = pad(x, before: [1, 0], after: [0, 1], mode: .constant(0))
        XCTAssertEqual(y.shape, [3, 3])
        XCTAssertEqual(y.scalars, [0, 0, 0, 1, 2, 0, 3, 4, 0])
    }

    func testConstantPaddingOfNCHWEqualsZeroPad2d() {
        let x = randomTensor([2, 3, 5, 4], seed: 1)
        let p = Padding2D(top: 0, bottom: 1, left: 2, right: 1)
        XCTAssertEqual(pad(x, before: [0, 0, 0, 2], after: [0, 0, 1, 1], mode: .constant(0)).scalars, zeroPad2d(x, p).scalars)
    }

    func testGradients() throws {
        // Reflect adds the mirrored elements' gradients into their sources.
        XCTAssertEqual(try gradientOfSum(Tensor(shape: [4], scalars: [1, 2, 3, 4])) { pad($0, before: [2], after: [3], mode: .reflect) },
                       [2, 3, 3, 1])
        XCTAssertEqual(try gradientOfSum(Tensor(shape: [4], scalars: [1, 2, 3, 4])) { pad($0, before: [2], after: [-1], mode: .edge) },
                       [3, 1, 1, 0])
        let x = randomTensor([2, 3, 4], seed: 2, requiresGrad: true)
        for mode in [PadMode.constant(0.5), .reflect, .edge] {
            assertGradientsMatchFiniteDifferences([x]) { pad($0[0], before: [0, 1, 1], after: [1, -1, 2], mode: mode) }
        }
    }
}
