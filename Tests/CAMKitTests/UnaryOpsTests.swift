import Foundation
import XCTest
@testable import CAMKit

/// Checks `f` against a double-precision `reference` within `ulps` float ulps of the reference
/// (absolute `floor` near zero), NaN against NaN and infinities exactly.
private func assertWithinUlps(_ x: [Float], _ f: (Tensor) -> Tensor, _ reference: (Double) -> Double, ulps: Float,
                              floor: Float = 0, file: StaticString = #filePath, line: UInt = #line) {
    let y = f(Tensor(shape: [x.count], scalars: x)).scalars
    for (v, got) in zip(x, y) {
        let expected = Float(reference(Double(v)))
        if expected.isNaN { XCTAssert(got.isNaN, "\(v): \(got), expected NaN", file: file, line: line); continue }
        if expected.isInfinite || expected == 0 && floor == 0 {
            XCTAssertEqual(got, expected, "at \(v)", file: file, line: line)
            continue
        }
        let allowed = max(ulps * expected.ulp, floor)
        XCTAssertLessThanOrEqual(abs(got - expected), allowed, "at \(v): \(got) vs \(expected)", file: file, line: line)
    }
}

private func sigmoidReference(_ x: Double) -> Double { 1 / (1 + Foundation.exp(-x)) }

private func tanhGELUReference(_ x: Double) -> Double {
    0.5 * x * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x)))
}

/// Values across the float range plus the special ones; a tail that is not a whole vector.
private let sweep: [Float] = stride(from: -20.0, through: 20.0, by: 0.037).map { Float($0) }
    + [0, -0.0, 1e-6, -1e-6, 1e-3, 0.6249, 0.6251, -0.625, 30, -30, 100, -100, .infinity, -.infinity, .nan]

final class UnaryOpsTests: XCTestCase {
    func testExpOverTheWholeRange() {
        let x: [Float] = stride(from: -110.0, through: 89.0, by: 0.01).map { Float($0) } + [88.72, 88.73, -87.4, -103, -150, -200, .infinity, -.infinity, .nan]
        // Below about -87.3 the result is denormal; ulps of the reference are then absolute 2^-149 steps.
        assertWithinUlps(x, { exp($0) }, Foundation.exp, ulps: 4, floor: Float.leastNonzeroMagnitude * 2)
        XCTAssertEqual(exp(Tensor(shape: [2], scalars: [89, -200])).scalars, [.infinity, 0])
    }

    func testLogSqrtReciprocalAndErf() {
        let positive: [Float] = stride(from: 0.001, through: 50, by: 0.013).map { Float($0) } + [1e-30, 1e30, 1, .leastNonzeroMagnitude]
        assertWithinUlps(positive + [0, -1, .infinity, .nan], { log($0) }, Foundation.log, ulps: 1)
        assertWithinUlps(positive + [0, -1, .infinity], { sqrt($0) }, { $0 < 0 ? .nan : $0.squareRoot() }, ulps: 0.5)
        assertWithinUlps(sweep.filter { $0 != 0 }, { reciprocal($0) }, { 1 / $0 }, ulps: 0.5)
        XCTAssertEqual(reciprocal(Tensor(shape: [2], scalars: [0, -0.0])).scalars, [.infinity, -.infinity])
        // ATen's erf polynomial (1.5e-7) evaluated in float: within 1e-6, as torch's.
        assertWithinUlps(sweep, { erf($0) }, Foundation.erf, ulps: 0, floor: 1e-6)
    }

    func testActivationsAgainstDoublePrecision() {
        assertWithinUlps(sweep, { sigmoid($0) }, sigmoidReference, ulps: 4, floor: 1e-37)
        assertWithinUlps(sweep, { tanh($0) }, Foundation.tanh, ulps: 3)
        // torch's silu(-inf) is NaN (-inf / inf); here exp(-x) saturates and it is -inf.
        assertWithinUlps(sweep.filter { $0 != -.infinity }, { silu($0) }, { $0 * sigmoidReference($0) }, ulps: 4, floor: 1e-36)
        // 1 + tanh cancels for negative x, in torch's formula as here: absolute error up to about 0.5 |x| ulp(1).
        assertWithinUlps(sweep.filter(\.isFinite), { gelu($0, approximation: .tanh) }, tanhGELUReference, ulps: 8, floor: 1e-6)
        XCTAssertEqual(gelu(Tensor(shape: [3], scalars: [-2, 0.5, 3]), approximation: .exact).scalars,
                       gelu(Tensor(shape: [3], scalars: [-2, 0.5, 3])).scalars)
    }

    func testPiecewiseActivations() {
        let x = Tensor(shape: [8], scalars: [-5, -3, -1.5, -0.0, 0.5, 2, 3, 4])
        let sixth: Float = 1 / 6
        assertClose(hardSigmoid(x, alpha: sixth, beta: 0.5), [0, 0, 0.25, 0.5, 0.5 + 0.5 * sixth, 0.5 + 2 * sixth, 1, 1])
        assertClose(hardSigmoid(x), [0, 0, 0.2, 0.5, 0.6, 0.9, 1, 1])
        // torch.nn.functional.hardswish: x * relu6(x + 3) / 6, in that order.
        XCTAssertEqual(hardSwish(x).scalars, x.scalars.map { $0 * min(max($0 + 3, 0), 6) / 6 })
        assertClose(leakyRelu(x, alpha: 0.1), [-0.5, -0.3, -0.15, 0, 0.5, 2, 3, 4])
        assertClose(leakyRelu(x), [-0.05, -0.03, -0.015, 0, 0.5, 2, 3, 4])
        XCTAssertEqual(clip(x, min: -1.5, max: 3).scalars, [-1.5, -1.5, -1.5, -0.0, 0.5, 2, 3, 3])
        XCTAssertEqual(clip(x, min: nil, max: 0).scalars, [-5, -3, -1.5, -0.0, 0, 0, 0, 0])
        XCTAssertEqual(clip(x, min: 1, max: nil).scalars, [1, 1, 1, 1, 1, 2, 3, 4])
        XCTAssertEqual(clip(x, min: 2, max: 1).scalars, [Float](repeating: 1, count: 8), "min > max gives max, as ONNX and torch")
        XCTAssertEqual(clip(x, min: nil, max: nil).scalars, x.scalars)
        let nan = Tensor(shape: [1], scalars: [.nan])
        for f in [{ hardSigmoid($0) }, { hardSwish($0) }, { leakyRelu($0) }, { clip($0, min: 0, max: 1) }, { sigmoid($0) },
                  { gelu($0, approximation: .tanh) }] as [(Tensor) -> Tensor] {
            XCTAssert(f(nan).scalars[0].isNaN)
        }
    }

    func testGradientsMatchFiniteDifferences() {
        let smooth = awayFrom([], [4, 9], seed: 1)
        for f in [{ exp($0) }, { sigmoid($0) }, { tanh($0) }, { silu($0) }, { erf($0) },
                  { gelu($0, approximation: .tanh) }] as [(Tensor) -> Tensor] {
            assertGradientsMatchFiniteDifferences([smooth], epsilon: 1e-3) { f($0[0]) }
        }
        let positive = Tensor(shape: [4, 9], scalars: smooth.scalars.map { abs($0) + 0.5 }, requiresGrad: true)
        for f in [{ log($0) }, { sqrt($0) }, { reciprocal($0) }] as [(Tensor) -> Tensor] {
            assertGradientsMatchFiniteDifferences([positive], epsilon: 1e-3) { f($0[0]) }
        }
        let kinked = awayFrom([-3, -2.5, 0, 2.5, 3, 1.2], [4, 9], seed: 2, scale: 5)
        assertGradientsMatchFiniteDifferences([kinked]) { hardSigmoid($0[0]) }
        assertGradientsMatchFiniteDifferences([kinked]) { hardSigmoid($0[0], alpha: 1 / 6, beta: 0.5) }
        assertGradientsMatchFiniteDifferences([kinked]) { hardSwish($0[0]) }
        assertGradientsMatchFiniteDifferences([kinked]) { leakyRelu($0[0], alpha: 0.2) }
        assertGradientsMatchFiniteDifferences([kinked]) { clip($0[0], min: -2.5, max: 1.2) }
        assertGradientsMatchFiniteDifferences([kinked]) { clip($0[0], min: nil, max: 1.2) }
    }

    func testGradientsAgainstClosedForms() throws {
        let values = randomTensor([50], seed: 3, scale: 4).scalars
        func gradient(_ f: (Tensor) -> Tensor, at x: [Float] = values) throws -> [Double] {
            let t = Tensor(shape: [x.count], scalars: x, requiresGrad: true)
            try f(t).backward()
            return t.grad!.scalars.map(Double.init)
        }
        func check(_ f: (Tensor) -> Tensor, _ derivative: (Double) -> Double, at x: [Float] = values, tolerance: Double = 2e-6,
                   file: StaticString = #filePath, line: UInt = #line) throws {
            for (v, g) in zip(x, try gradient(f, at: x)) {
                XCTAssertEqual(g, derivative(Double(v)), accuracy: tolerance * max(1, abs(derivative(Double(v)))), "at \(v)",
                               file: file, line: line)
            }
        }
        try check({ sigmoid($0) }, { sigmoidReference($0) * (1 - sigmoidReference($0)) })
        try check({ tanh($0) }, { 1 - Foundation.tanh($0) * Foundation.tanh($0) })
        try check({ exp($0) }, Foundation.exp)
        try check({ silu($0) }, { s in sigmoidReference(s) * (1 + s * (1 - sigmoidReference(s))) })
        try check({ erf($0) }, { 2 / Double.pi.squareRoot() * Foundation.exp(-$0 * $0) })
        try check({ gelu($0, approximation: .tanh) }, { x in
            let k = (2 / Double.pi).squareRoot(), t = Foundation.tanh(k * (x + 0.044715 * x * x * x))
            return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * 0.044715 * x * x)
        })
        let positive = values.map { abs($0) + 0.1 }
        try check({ log($0) }, { 1 / $0 }, at: positive)
        try check({ sqrt($0) }, { 0.5 / $0.squareRoot() }, at: positive)
        try check({ reciprocal($0) }, { -1 / ($0 * $0) }, at: positive)
    }

    func testGradientsAtKinksFollowTorch() throws {
        let x: [Float] = [-4, -3, -1, 0, 2, 3, 5, .nan]
        func gradient(_ f: (Tensor) -> Tensor) throws -> [Float] {
            let t = Tensor(shape: [x.count], scalars: x, requiresGrad: true)
            try f(t).backward()
            return t.grad!.scalars
        }
        // clamp backward passes the gradient on the bounds, not beyond them nor for NaN.
        XCTAssertEqual(try gradient { clip($0, min: -3, max: 3) }, [0, 1, 1, 1, 1, 1, 0, 0])
        XCTAssertEqual(try gradient { clip($0, min: -1, max: nil) }, [0, 0, 1, 1, 1, 1, 1, 0])
        // hardsigmoid: 1/6 strictly inside (-3, 3); hardswish: torch's vectorised kernel.
        let sixth: Float = 1 / 6
        XCTAssertEqual(try gradient { hardSigmoid($0, alpha: sixth, beta: 0.5) }, [0, 0, sixth, sixth, sixth, 0, 0, 0])
        let swish = try gradient { hardSwish($0) }
        XCTAssertEqual(Array(swish[0..<7]), [0, -0.5, Float(-1) / 3 + 0.5, 0.5, Float(2) / 3 + 0.5, 1, 1])
        XCTAssert(swish[7].isNaN)
        XCTAssertEqual(Array(try gradient { leakyRelu($0, alpha: 0.25) }[0..<7]), [0.25, 0.25, 0.25, 0.25, 1, 1, 1])
    }

    func testLargeInputsAreBitIdenticalWithOneAndTwoThreads() {
        let x = randomTensor([3, 70_001], seed: 4, scale: 6)
        let (one, two) = bitsWithOneAndTwoThreads {
            sigmoid(x).scalars + hardSwish(x).scalars + tanh(x).scalars + silu(x).scalars + exp(x).scalars
        }
        XCTAssertEqual(one, two)
    }

    /// Ops whose backward reads their own output keep it without a reference cycle through the
    /// graph, so a recorded forward pass is freed with its last tensor.
    func testRecordedOutputsAreFreed() {
        let ops: [(String, (Tensor) -> Tensor)] = [
            ("sigmoid", sigmoid), ("tanh", tanh), ("exp", exp), ("sqrt", sqrt), ("reciprocal", reciprocal),
            ("div", { $0 / $0 }), ("pow", { pow($0, $0) }), ("max", { reduce($0, .max, axes: [0], keepDims: false) }),
            ("softmax", { softmax($0) }),
        ]
        for (name, op) in ops {
            weak var output: Tensor?
            do {
                let x = Tensor(shape: [3], scalars: [1, 2, 3], requiresGrad: true)
                let y = op(x)
                XCTAssertNotNil(y.gradFn)
                output = y
            }
            XCTAssertNil(output, "\(name) output kept alive by its own backward")
        }
    }
}
