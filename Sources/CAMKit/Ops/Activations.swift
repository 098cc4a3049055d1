/// Elementwise activations. GELU is the exact erf form (torch's default `nn.GELU()`), with a
/// vectorised erf: a libm `erff` per element would dominate a ConvNeXt forward pass.

private let sqrtHalf: Float = 0.707_106_781_186_547_52
/// 1 / sqrt(2 pi), the scale of the standard normal density.
private let normalDensityScale: Float = 0.398_942_280_401_432_68

/// GELU, 0.5 x (1 + erf(x / sqrt 2)), evaluated in ATen's order of operations.
public func gelu(_ x: Tensor) -> Tensor {
    traced(.unary(.gelu), [x]) {
        Tensor.record(mapElements(x, GELUKernel.self), op: "gelu", inputs: [x]) { g, _ in
            [mapElements(g, x, GELUKernel.Backward.self)]
        }
    }
}

public func relu(_ x: Tensor) -> Tensor {
    traced(.unary(.relu), [x]) {
        Tensor.record(mapElements(x, ReLUKernel.self), op: "relu", inputs: [x]) { g, _ in
            [mapElements(g, x, ReLUKernel.Backward.self)]
        }
    }
}

/// min(max(x, 0), 6).
public func relu6(_ x: Tensor) -> Tensor {
    traced(.unary(.relu6), [x]) {
        Tensor.record(mapElements(x, ReLU6Kernel.self), op: "relu6", inputs: [x]) { g, _ in
            [mapElements(g, x, ReLU6Kernel.Backward.self)]
        }
    }
}

private enum GELUKernel: UnaryVectorKernel {
    @inline(__always) static func apply(_ x: FloatVector) -> FloatVector { (x * 0.5) * (1 + verf(x * sqrtHalf)) }

    /// g * (Phi(x) + x phi(x)).
    enum Backward: BinaryVectorKernel {
        @inline(__always) static func apply(_ g: FloatVector, _ x: FloatVector) -> FloatVector {
            let cdf = 0.5 * (1 + verf(x * sqrtHalf))
            let pdf = normalDensityScale * vexp(x * x * -0.5)
            return g * (cdf + x * pdf)
        }
    }
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
