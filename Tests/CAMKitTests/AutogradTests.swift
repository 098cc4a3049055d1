import XCTest
import CAMKit

final class AutogradTests: XCTestCase {
    func testBroadcastAddAndMulGradients() throws {
        let a = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6], requiresGrad: true)
        let b = Tensor(shape: [3], scalars: [10, 20, 30], requiresGrad: true)
        let y = (a + b) * a
        try y.backward()
        // d/da (a+b)*a = 2a + b ; d/db = sum over rows of a
        XCTAssertEqual(a.grad?.scalars, [12, 24, 36, 18, 30, 42])
        XCTAssertEqual(b.grad?.scalars, [5, 7, 9])
    }

    func testNothingIsRecordedWithoutRequiresGrad() {
        let a = Tensor(shape: [2], scalars: [1, 2])
        let y = a + a
        XCTAssertFalse(y.requiresGrad)
        XCTAssertThrowsError(try y.backward())
    }
}
