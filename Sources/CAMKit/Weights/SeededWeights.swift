import Foundation

/// Deterministic weights generated from each state-dict key ("seeded weights v1",
/// specified in Fixtures/README.md and implemented identically by the Python reference).
///
/// Parity fixtures of models too large to commit carry only expected outputs; both sides
/// regenerate the same weights bit for bit. Benchmarks use them as random weights.
public enum SeededWeights {
    /// Uniform values in [-1, 1) for `key`, exactly representable in float32.
    public static func uniform(key: String, count: Int, seed: UInt64 = 0) -> [Float] {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        let base = hash ^ seed
        return (0..<count).map { i in
            let x = base &+ UInt64(i + 1) &* 0x9E37_79B9_7F4A_7C15
            var z = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            return Float(z >> 40) * 0x1p-23 - 1
        }
    }

    /// The value of every element of the state-dict entry `key` of PyTorch shape `shape`.
    public static func values(key: String, shape: [Int], seed: UInt64 = 0) -> [Float] {
        let u = uniform(key: key, count: shape.product, seed: seed).map(Double.init)
        // Written as in the rule, operation for operation, so float64 rounding agrees too.
        let v: [Double]
        if key.hasSuffix("running_var") {
            v = u.map { 1 + 0.5 * $0 }
        } else if key.hasSuffix("running_mean") {
            v = u.map { 0.1 * $0 }
        } else if shape.count == 1 {
            v = key.hasSuffix("weight") ? u.map { 1 + 0.1 * $0 } : u.map { 0.1 * $0 }
        } else {
            let fanIn = Double(shape.product / shape[0]).squareRoot()
            v = u.map { $0 / fanIn }
        }
        return v.map { Float($0) }
    }

    /// A seeded input batch, generated under the key `input`.
    public static func input(shape: [Int], seed: UInt64 = 0) -> Tensor {
        Tensor(shape: shape, scalars: uniform(key: "input", count: shape.product, seed: seed))
    }

    /// Fills every parameter and buffer of `model` with its seeded values.
    public static func fill(_ model: Module, seed: UInt64 = 0) {
        for (key, parameter) in model.namedParameters() {
            parameter.value = Tensor(shape: parameter.shape, scalars: values(key: key, shape: parameter.shape, seed: seed))
        }
    }
}
