import Foundation

/// Elementwise math functions (ONNX Exp, Log, Sqrt, Reciprocal, Erf). Each gradient is torch's
/// formula, written from the saved output where torch's is (exp, sqrt, reciprocal).

/// e^x, within a few ulps of torch's over the whole float range (inf above 88.72, denormals
/// and then 0 below -87.3).
public func exp(_ x: Tensor) -> Tensor {
    recordedMap(x, "exp", ExpKernel.self, derivative: MultiplyKernel.self, fromOutput: true)
}

/// The natural logarithm (powf's companion logf, lane by lane); -inf at 0, NaN below.
public func log(_ x: Tensor) -> Tensor {
    recordedMap(x, "log", LogKernel.self, derivative: DivideKernel.self)
}

/// The square root, correctly rounded; its gradient is g / (2 sqrt(x)), as torch's.
public func sqrt(_ x: Tensor) -> Tensor {
    recordedMap(x, "sqrt", SquareRootKernel.self, derivative: SquareRootKernel.Backward.self, fromOutput: true)
}

/// 1 / x; its gradient is -g · (1/x)², as torch's.
public func reciprocal(_ x: Tensor) -> Tensor {
    recordedMap(x, "reciprocal", ReciprocalKernel.self, derivative: ReciprocalKernel.Backward.self, fromOutput: true)
}

/// The error function, ATen's vectorised float erf to the last bits (the polynomial GELU uses).
public func erf(_ x: Tensor) -> Tensor {
    recordedMap(x, "erf", ErfKernel.self, derivative: ErfKernel.Backward.self)
}

/// vexp, with exp(x/2)² where its clamping to [-87.3, 88] would show.
private enum ExpKernel: UnaryVectorKernel {
    @inline(__always) static func apply(_ x: FloatVector) -> FloatVector {
        let y = vexp(x)
        let outside = (x .> 88) .| (x .< -87.3)
        guard any(outside) else { return y }
        let half = vexp(x * 0.5)
        return y.replacing(with: half * half, where: outside)
    }
}

private enum LogKernel: UnaryVectorKernel {
    @inline(__always) static func apply(_ x: FloatVector) -> FloatVector {
        var r = FloatVector()
        for i in 0..<vectorWidth { r[i] = Foundation.log(x[i]) }
        return r
    }
}

enum SquareRootKernel: UnaryVectorKernel {
    @inline(__always) static func apply(_ x: FloatVector) -> FloatVector { x.squareRoot() }

    /// g / (2 y) with y the output.
    enum Backward: BinaryVectorKernel {
        @inline(__always) static func apply(_ g: FloatVector, _ y: FloatVector) -> FloatVector { g / (2 * y) }
    }
}

private enum ReciprocalKernel: UnaryVectorKernel {
    @inline(__always) static func apply(_ x: FloatVector) -> FloatVector { 1 / x }

    /// -g · y² with y the output.
    enum Backward: BinaryVectorKernel {
        @inline(__always) static func apply(_ g: FloatVector, _ y: FloatVector) -> FloatVector { -g * (y * y) }
    }
}

private enum ErfKernel: UnaryVectorKernel {
    @inline(__always) static func apply(_ x: FloatVector) -> FloatVector { verf(x) }

    /// 2/sqrt(pi) · exp(-x²) · g.
    enum Backward: BinaryVectorKernel {
        @inline(__always) static func apply(_ g: FloatVector, _ x: FloatVector) -> FloatVector {
            1.128_379_167_095_512_6 * vexp(-(x * x)) * g
        }
    }
}
