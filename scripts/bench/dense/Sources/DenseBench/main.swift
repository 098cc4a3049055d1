import CAMKit
import Foundation

/// Best wall time in milliseconds of `body` over `runs` runs, after one warm-up.
func medianMilliseconds(runs: Int = 30, _ body: () -> Void) -> Double {
    body()
    var times: [Double] = []
    for _ in 0..<runs {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
    }
    return times.min()!
}

func tensor(_ shape: [Int], seed: UInt64) -> Tensor {
    var state = seed &+ 0x9E37_79B9_7F4A_7C15
    let values = (0..<shape.product).map { _ -> Float in
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Float(state >> 40) / Float(1 << 24) * 4 - 2
    }
    return Tensor(shape: shape, scalars: values)
}

for shape in [[1, 512, 56, 56], [1, 2048, 14, 14]] {
    let c = shape[1]
    let x = tensor(shape, seed: 1)
    let w = tensor([c], seed: 2), b = tensor([c], seed: 3)
    let rows: [(String, () -> Tensor)] = [
        ("gelu", { gelu(x) }),
        ("layerNorm2d", { layerNorm2d(x, weight: w, bias: b, eps: 1e-6) }),
        ("GRN", { globalResponseNorm2d(x, weight: w, bias: b) }),
    ]
    for (name, op) in rows {
        print(String(format: "swift %-12@ %-16@ %8.3f ms", name, "\(shape)", medianMilliseconds { _ = op() }))
    }
}
