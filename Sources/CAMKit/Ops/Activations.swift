import CKernels

/// Elementwise activations. GELU is the exact erf form (torch's default `nn.GELU()`), with a
/// vectorised erf: a libm `erff` per element would dominate a ConvNeXt forward pass.

/// GELU, 0.5 x (1 + erf(x / sqrt 2)), evaluated in ATen's order of operations, by the C kernels
/// of the CPU's widest instruction set (`ck_gelu`).
public func gelu(_ x: Tensor) -> Tensor {
    traced(.unary(.gelu), [x]) {
        let out = mapElements(x) { ck_gelu($0, $1, $2) }
        return Tensor.record(out, op: "gelu", inputs: [x]) { g, _ in [mapElements(g, x) { ck_gelu_backward($0, $1, $2, $3) }] }
    }
}

public func relu(_ x: Tensor) -> Tensor {
    traced(.unary(.relu), [x]) { recordedMap(x, "relu", ReLUKernel.self, derivative: ReLUKernel.Backward.self) }
}

/// min(max(x, 0), 6).
public func relu6(_ x: Tensor) -> Tensor {
    traced(.unary(.relu6), [x]) { recordedMap(x, "relu6", ReLU6Kernel.self, derivative: ReLU6Kernel.Backward.self) }
}

private enum ReLUKernel: UnaryVectorKernel {
    @inline(__always) static func apply(_ x: FloatVector) -> FloatVector { x.replacing(with: 0, where: x .< 0) }

    /// Zero gradient at x == 0, as torch's threshold_backward.
    enum Backward: BinaryVectorKernel {
        @inline(__always) static func apply(_ g: FloatVector, _ x: FloatVector) -> FloatVector { g.replacing(with: 0, where: x .<= 0) }
    }
}

private enum ReLU6Kernel: UnaryVectorKernel {
    @inline(__always) static func apply(_ x: FloatVector) -> FloatVector { clamp(x, 0, 6) }

    /// Zero gradient on and beyond both bounds, as torch's hardtanh_backward.
    enum Backward: BinaryVectorKernel {
        @inline(__always) static func apply(_ g: FloatVector, _ x: FloatVector) -> FloatVector {
            g.replacing(with: 0, where: (x .<= 0) .| (x .>= 6))
        }
    }
}

/// The two forms of GELU: torch's `approximate='none'` (the erf form, `gelu(_:)`) and
/// `approximate='tanh'` (ONNX Gelu with approximate="tanh").
public enum GELUApproximation: Sendable {
    case exact, tanh
}

/// GELU in either form; the tanh form is 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x³))) in
/// ATen's order of operations, and so is its gradient.
public func gelu(_ x: Tensor, approximation: GELUApproximation) -> Tensor {
    switch approximation {
    case .exact: return gelu(x)
    case .tanh: return recordedMap(x, "geluTanh", TanhGELUKernel.self, derivative: TanhGELUKernel.Backward.self)
    }
}

/// 1 / (1 + e^-x), as ATen computes it; gradient g (1 - y) y from the output y.
public func sigmoid(_ x: Tensor) -> Tensor {
    recordedMap(x, "sigmoid", SigmoidKernel.self, derivative: SigmoidKernel.Backward.self, fromOutput: true)
}

/// tanh within 3 ulp (torch's Sleef tanh is within 1); gradient g (1 - y²) from the output y.
public func tanh(_ x: Tensor) -> Tensor {
    recordedMap(x, "tanh", TanhKernel.self, derivative: TanhKernel.Backward.self, fromOutput: true)
}

/// SiLU (swish), x / (1 + e^-x) as one op, as torch's `silu`, with torch's gradient
/// g s (1 + x (1 - s)), s the sigmoid.
public func silu(_ x: Tensor) -> Tensor {
    recordedMap(x, "silu", SiLUKernel.self, derivative: SiLUKernel.Backward.self)
}

/// ONNX HardSigmoid, max(0, min(1, alpha x + beta)); torch's `hardsigmoid` is alpha 1/6,
/// beta 0.5. The gradient is alpha strictly inside the linear part, 0 on and beyond its ends
/// (torch's: 0 at x = ±3).
public func hardSigmoid(_ x: Tensor, alpha: Float = 0.2, beta: Float = 0.5) -> Tensor {
    let f = HardSigmoid(alpha: alpha, beta: beta)
    return recordedMap(x, "hardSigmoid", f, derivative: f.backward)
}

/// x · hardSigmoid(x; 1/6, 0.5), computed as torch's `hardswish`, x · min(max(x + 3, 0), 6) / 6,
/// with the gradient of torch's vectorised kernel: 0 below -3, g (x/3 + 0.5) on [-3, 3), g from 3 on.
public func hardSwish(_ x: Tensor) -> Tensor {
    recordedMap(x, "hardSwish", HardSwishKernel.self, derivative: HardSwishKernel.Backward.self)
}

/// x for x > 0, alpha x otherwise (ONNX default alpha 0.01); gradient 1 or alpha, alpha at 0.
public func leakyRelu(_ x: Tensor, alpha: Float = 0.01) -> Tensor {
    let f = LeakyReLU(alpha: alpha)
    return recordedMap(x, "leakyRelu", f, derivative: f.backward)
}

/// ONNX Clip / torch `clamp`: min(max(x, min), max), either bound optional; NaN stays NaN and
/// min > max gives max everywhere. The gradient passes where min ≤ x ≤ max, bounds included,
/// as torch's `clamp` backward (unlike `relu6`, which follows hardtanh's and stops at the bounds).
public func clip(_ x: Tensor, min lower: Float?, max upper: Float?) -> Tensor {
    let f = Clip(lower: lower ?? -.infinity, upper: upper ?? .infinity)
    return recordedMap(x, "clip", f, derivative: f.backward)
}

/// sqrt(2/pi), as ATen's M_SQRT2 * M_2_SQRTPI * 0.5 rounded to float.
private let tanhGELUBeta = Float(2.0.squareRoot() * (2 / Double.pi.squareRoot()) * 0.5)
private let tanhGELUKappa: Float = 0.044715

private enum TanhGELUKernel: UnaryVectorKernel {
    @inline(__always) static func apply(_ x: FloatVector) -> FloatVector {
        let inner = tanhGELUBeta * (x + tanhGELUKappa * (x * x * x))
        return 0.5 * x * (1 + vtanh(inner))
    }

    enum Backward: BinaryVectorKernel {
        @inline(__always) static func apply(_ g: FloatVector, _ x: FloatVector) -> FloatVector {
            let square = x * x
            let t = vtanh(tanhGELUBeta * (x + tanhGELUKappa * (x * x * x)))
            let left = 0.5 * x, right = 1 + t
            let innerDerivative = tanhGELUBeta * (1 + 3 * tanhGELUKappa * square)
            return g * (0.5 * right + left * (1 - t * t) * innerDerivative)
        }
    }
}

private enum SigmoidKernel: UnaryVectorKernel {
    @inline(__always) static func apply(_ x: FloatVector) -> FloatVector { 1 / (vexp(0 - x) + 1) }

    enum Backward: BinaryVectorKernel {
        @inline(__always) static func apply(_ g: FloatVector, _ y: FloatVector) -> FloatVector { g * (1 - y) * y }
    }
}

private enum TanhKernel: UnaryVectorKernel {
    @inline(__always) static func apply(_ x: FloatVector) -> FloatVector { vtanh(x) }

    enum Backward: BinaryVectorKernel {
        @inline(__always) static func apply(_ g: FloatVector, _ y: FloatVector) -> FloatVector { g * (1 - y * y) }
    }
}

private enum SiLUKernel: UnaryVectorKernel {
    @inline(__always) static func apply(_ x: FloatVector) -> FloatVector { x / (1 + vexp(-x)) }

    enum Backward: BinaryVectorKernel {
        @inline(__always) static func apply(_ g: FloatVector, _ x: FloatVector) -> FloatVector {
            let s = 1 / (1 + vexp(-x))
            return g * s * (1 + x * (1 - s))
        }
    }
}

private struct HardSigmoid: UnaryVectorMap {
    let alpha: Float, beta: Float

    @inline(__always) func callAsFunction(_ x: FloatVector) -> FloatVector { clamp(alpha * x + beta, 0, 1) }

    var backward: Backward { Backward(alpha: alpha, beta: beta) }

    struct Backward: BinaryVectorMap {
        let alpha: Float, beta: Float

        @inline(__always) func callAsFunction(_ g: FloatVector, _ x: FloatVector) -> FloatVector {
            let y = alpha * x + beta
            return FloatVector().replacing(with: g * alpha, where: (y .> 0) .& (y .< 1))
        }
    }
}

private enum HardSwishKernel: UnaryVectorKernel {
    @inline(__always) static func apply(_ x: FloatVector) -> FloatVector { x * clamp(x + 3, 0, 6) / 6 }

    enum Backward: BinaryVectorKernel {
        @inline(__always) static func apply(_ g: FloatVector, _ x: FloatVector) -> FloatVector {
            (g * (x / 3 + 0.5)).replacing(with: g, where: x .>= 3).replacing(with: 0, where: x .< -3)
        }
    }
}

private struct LeakyReLU: UnaryVectorMap {
    let alpha: Float

    @inline(__always) func callAsFunction(_ x: FloatVector) -> FloatVector {
        x * FloatVector(repeating: alpha).replacing(with: 1, where: x .> 0)
    }

    var backward: Backward { Backward(alpha: alpha) }

    struct Backward: BinaryVectorMap {
        let alpha: Float

        @inline(__always) func callAsFunction(_ g: FloatVector, _ x: FloatVector) -> FloatVector {
            g * FloatVector(repeating: alpha).replacing(with: 1, where: x .> 0)
        }
    }
}

private struct Clip: UnaryVectorMap {
    let lower: Float, upper: Float

    @inline(__always) func callAsFunction(_ x: FloatVector) -> FloatVector { clamp(x, lower, upper) }

    var backward: Backward { Backward(lower: lower, upper: upper) }

    struct Backward: BinaryVectorMap {
        let lower: Float, upper: Float

        @inline(__always) func callAsFunction(_ g: FloatVector, _ x: FloatVector) -> FloatVector {
            FloatVector().replacing(with: g, where: (x .>= lower) .& (x .<= upper))
        }
    }
}
