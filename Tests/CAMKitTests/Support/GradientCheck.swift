import XCTest
import CAMKit

/// Deterministic pseudo-random tensors for tests.
func randomTensor(_ shape: [Int], seed: UInt64, scale: Float = 1, requiresGrad: Bool = false) -> Tensor {
    var state = seed &+ 0x9E37_79B9_7F4A_7C15
    let values = (0..<shape.product).map { _ -> Float in
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return (Float(state >> 40) / Float(1 << 24) * 2 - 1) * scale
    }
    return Tensor(shape: shape, scalars: values, requiresGrad: requiresGrad)
}

/// Compares the autograd gradient of `sum(f(inputs) * probe)` with central finite
/// differences, for every input that requires a gradient. Computed in float32, so the
/// tolerance is loose; it catches wrong formulas and indexing, not the last bits.
func assertGradientsMatchFiniteDifferences(
    _ inputs: [Tensor], epsilon: Float = 1e-2, tolerance: Float = 2e-2,
    file: StaticString = #filePath, line: UInt = #line,
    _ f: ([Tensor]) -> Tensor
) {
    let probeShape = f(inputs.map { $0.detached() }).shape
    let probe = randomTensor(probeShape, seed: 99)
    func objective(_ xs: [Tensor]) -> Float {
        let y = f(xs)
        return zip(y.scalars, probe.scalars).reduce(0) { $0 + $1.0 * $1.1 }
    }
    let y = f(inputs)
    do { try y.backward(seed: probe) } catch { XCTFail("backward failed: \(error)", file: file, line: line); return }

    for (k, input) in inputs.enumerated() where input.requiresGrad {
        guard let grad = input.grad else { XCTFail("input \(k) got no gradient", file: file, line: line); continue }
        let scale = max(1, grad.scalars.map(abs).max() ?? 0)
        // Checks a spread of elements; all of them on small tensors.
        let step = max(1, input.count / 64)
        for i in stride(from: 0, to: input.count, by: step) {
            func shifted(_ delta: Float) -> [Tensor] {
                inputs.enumerated().map { j, t in
                    var values = t.scalars
                    if j == k { values[i] += delta }
                    return Tensor(shape: t.shape, scalars: values)
                }
            }
            let numeric = (objective(shifted(epsilon)) - objective(shifted(-epsilon))) / (2 * epsilon)
            let analytic = grad.scalars[i]
            if abs(numeric - analytic) > tolerance * scale {
                XCTFail("input \(k) element \(i): autograd \(analytic), finite difference \(numeric)",
                        file: file, line: line)
                return
            }
        }
    }
}
