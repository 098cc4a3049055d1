import XCTest
import CAMKit

final class LayerNormOverTrailingAxesTests: XCTestCase {
    func testMatchesNaiveAndTheLastAxisKernel() {
        let x = randomTensor([2, 3, 4], seed: 1, scale: 3)
        let w = randomTensor([3, 4], seed: 2), b = randomTensor([3, 4], seed: 3)
        var expected: [Float] = []
        for row in 0..<2 {
            let v = (0..<12).map { Double(x.scalars[row * 12 + $0]) }
            let mean = v.reduce(0, +) / 12, variance = v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 12
            expected += (0..<12).map { Float((v[$0] - mean) / (variance + 1e-5).squareRoot() * Double(w.scalars[$0]) + Double(b.scalars[$0])) }
        }
        let y = layerNorm(x, fromAxis: 1, weight: w, bias: b, eps: 1e-5)
        assertClose(y, expected, shape: [2, 3, 4], tolerance: 2e-6)
        XCTAssertEqual(layerNorm(x, fromAxis: 2, weight: nil, bias: nil, eps: 1e-5).scalars,
                       layerNorm(x, weight: nil, bias: nil, eps: 1e-5).scalars)
        XCTAssertEqual(layerNorm(x, fromAxis: 0, weight: nil, bias: nil, eps: 1e-5).shape, [2, 3, 4])
    }

    func testGradients() {
        let x = randomTensor([2, 3, 4], seed: 4, requiresGrad: true)
        let w = randomTensor([3, 4], seed: 5, requiresGrad: true), b = randomTensor([3, 4], seed: 6, requiresGrad: true)
        assertGradientsMatchFiniteDifferences([x, w, b]) { layerNorm($0[0], fromAxis: 1, weight: $0[1], bias: $0[2], eps: 1e-5) }
    }
}
