/// SIMD building blocks for the dense kernels: unaligned vector loads and stores, and exp/erf
/// accurate to about an ulp, so activations need no libm call per element.

typealias FloatVector = SIMD16<Float>
let vectorWidth = FloatVector.scalarCount

extension UnsafePointer where Pointee == Float {
    @inline(__always) func loadVector(_ offset: Int) -> FloatVector {
        UnsafeRawPointer(self + offset).loadUnaligned(as: FloatVector.self)
    }
}

extension UnsafeMutablePointer where Pointee == Float {
    @inline(__always) func loadVector(_ offset: Int) -> FloatVector {
        UnsafeRawPointer(self + offset).loadUnaligned(as: FloatVector.self)
    }

    @inline(__always) func storeVector(_ v: FloatVector, _ offset: Int) {
        UnsafeMutableRawPointer(self + offset).storeBytes(of: v, as: FloatVector.self)
    }
}

/// The first `n` elements at `p` as a vector, the other lanes `fill`.
@inline(__always) func loadPartial(_ p: UnsafePointer<Float>, _ n: Int, fill: Float = 0) -> FloatVector {
    var v = FloatVector(repeating: fill)
    for i in 0..<n { v[i] = p[i] }
    return v
}

@inline(__always) func storePartial(_ v: FloatVector, _ p: UnsafeMutablePointer<Float>, _ n: Int) {
    for i in 0..<n { p[i] = v[i] }
}

/// min(max(x, lower), upper) as vector compares and selects (`SIMD.clamped` goes lane by lane):
/// NaN stays NaN, and a lower bound above the upper one gives the upper one.
@inline(__always) func clamp(_ x: FloatVector, _ lower: Float, _ upper: Float) -> FloatVector {
    let raised = x.replacing(with: lower, where: x .< lower)
    return raised.replacing(with: upper, where: raised .> upper)
}

/// The bounds of a clamping activation that a kernel applies to its output as it writes it
/// (`Conv2dAttributes.activation`).
struct ClampBounds {
    let lower: Float, upper: Float

    /// `clamp` on `count` floats in place, on the calling thread: right after they were
    /// computed, while they are still in cache.
    func apply(_ p: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + vectorWidth <= count { p.storeVector(clamp(p.loadVector(i), lower, upper), i); i += vectorWidth }
        if i < count { storePartial(clamp(loadPartial(p + i, count - i), lower, upper), p + i, count - i) }
    }
}

/// exp, Cephes' single-precision polynomial with a two-constant ln 2 reduction (about 1 ulp).
/// Arguments are clamped to [-87.3, 88]: below, the result is FLT_MIN instead of a denormal or 0,
/// which is immaterial wherever it is added to or multiplied by ordinary values.
@inline(__always) func vexp(_ x: FloatVector) -> FloatVector {
    let x = clamp(x, -87.3, 88)
    // Adding 1.5 * 2^23 rounds to an integer and leaves it in the low mantissa bits.
    let magic: Float = 12_582_912
    let shifted = x * 1.442_695_04 + magic
    let n = shifted - magic
    let r = x - n * 0.693_359_375 + n * 2.121_944_40e-4
    var p = r * 1.987_569_150_0e-4 + 1.398_199_950_7e-3
    p = p * r + 8.333_451_907_3e-3
    p = p * r + 4.166_579_589_4e-2
    p = p * r + 1.666_666_545_9e-1
    p = p * r + 5.000_000_120_1e-1
    p = p * (r * r) + r + 1
    let exponent = (unsafeBitCast(shifted, to: SIMD16<Int32>.self) &- Int32(bitPattern: magic.bitPattern) &+ 127) &<< 23
    return p * unsafeBitCast(exponent, to: FloatVector.self)
}

/// erf by Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7), written exactly as ATen's
/// `Vectorized<float>::erf` so that GELU agrees with torch's to the last bits.
@inline(__always) func verf(_ x: FloatVector) -> FloatVector {
    let bits = unsafeBitCast(x, to: SIMD16<UInt32>.self)
    let sign = bits & 0x8000_0000
    let a = unsafeBitCast(bits & 0x7FFF_FFFF, to: FloatVector.self)
    let t = 1 / (a * 0.327_591_1 + 1)
    var r = t * 1.061_405_429 - 1.453_152_027
    r = r * t + 1.421_413_741
    r = r * t - 0.284_496_736
    r = r * t + 0.254_829_592
    let y = 1 - vexp(-(x * x)) * r * t
    return unsafeBitCast(unsafeBitCast(y, to: SIMD16<UInt32>.self) | sign, to: FloatVector.self)
}

/// tanh within 3 ulp, as Cephes' tanhf: an odd polynomial below |x| = 0.625, where
/// 1 - 2 / (exp(2|x|) + 1) would cancel, that formula (sign restored) above. NaN stays NaN.
@inline(__always) func vtanh(_ x: FloatVector) -> FloatVector {
    let bits = unsafeBitCast(x, to: SIMD16<UInt32>.self)
    let sign = bits & 0x8000_0000
    let a = unsafeBitCast(bits & 0x7FFF_FFFF, to: FloatVector.self)
    let z = x * x
    var p = z * -5.704_988_727_45e-3 + 2.063_908_879_54e-2
    p = p * z - 5.373_971_555_31e-2
    p = p * z + 1.333_144_220_36e-1
    p = p * z - 3.333_328_194_22e-1
    let small = p * z * x + x
    let large = 1 - 2 / (vexp(a + a) + 1)
    let signed = unsafeBitCast(unsafeBitCast(large, to: SIMD16<UInt32>.self) | sign, to: FloatVector.self)
    return small.replacing(with: signed, where: a .>= 0.625)
}

/// A pointwise function of one vector. Kernels are types rather than closures so that
/// generic specialisation inlines them into the loops (closures end up called per vector).
protocol UnaryVectorKernel {
    static func apply(_ x: FloatVector) -> FloatVector
}

/// A pointwise function of two vectors.
protocol BinaryVectorKernel {
    static func apply(_ a: FloatVector, _ b: FloatVector) -> FloatVector
}

/// Sum of `n` elements: float vector lanes over blocks of 1024 elements, blocks added in
/// double, so long rows keep about float precision.
@inline(__always) func sumVectors(_ p: UnsafePointer<Float>, _ n: Int) -> Double {
    var total = 0.0
    var i = 0
    while i < n {
        let end = min(n, i + 1024)
        var acc = FloatVector()
        while i + vectorWidth <= end { acc += p.loadVector(i); i += vectorWidth }
        var tail: Float = 0
        while i < end { tail += p[i]; i += 1 }
        total += Double(acc.sum() + tail)
    }
    return total
}

/// Sum of (p[i] - center)^2 over `n` elements, blocked as `sumVectors`.
@inline(__always) func sumSquares(_ p: UnsafePointer<Float>, _ n: Int, around center: Float = 0) -> Double {
    var total = 0.0
    var i = 0
    let c = FloatVector(repeating: center)
    while i < n {
        let end = min(n, i + 1024)
        var acc = FloatVector()
        while i + vectorWidth <= end { let d = p.loadVector(i) - c; acc += d * d; i += vectorWidth }
        var tail: Float = 0
        while i < end { let d = p[i] - center; tail += d * d; i += 1 }
        total += Double(acc.sum() + tail)
    }
    return total
}

/// Splits `0..<count` into vector-aligned element ranges, one per core when `count` is large.
func parallelVectorRanges(_ count: Int, _ body: (_ start: Int, _ end: Int) -> Void) {
    let vectors = count / vectorWidth
    guard vectors > 0 else {
        if count > 0 { body(0, count) }
        return
    }
    parallelChunks(vectors, grain: 2048) { r in
        body(r.lowerBound * vectorWidth, r.upperBound == vectors ? count : r.upperBound * vectorWidth)
    }
}

/// A pointwise function with parameters (clip bounds, a slope), passed as a value: generic
/// specialisation inlines it as it does the static kernels.
protocol UnaryVectorMap {
    func callAsFunction(_ x: FloatVector) -> FloatVector
}

/// A pointwise function of two vectors with parameters.
protocol BinaryVectorMap {
    func callAsFunction(_ a: FloatVector, _ b: FloatVector) -> FloatVector
}

private struct StaticUnaryMap<K: UnaryVectorKernel>: UnaryVectorMap {
    @inline(__always) func callAsFunction(_ x: FloatVector) -> FloatVector { K.apply(x) }
}

private struct StaticBinaryMap<K: BinaryVectorKernel>: BinaryVectorMap {
    @inline(__always) func callAsFunction(_ a: FloatVector, _ b: FloatVector) -> FloatVector { K.apply(a, b) }
}

/// `K.apply` on every element of `x`, over both cores when it is large.
func mapElements<K: UnaryVectorKernel>(_ x: Tensor, _: K.Type) -> Tensor {
    mapElements(x, StaticUnaryMap<K>())
}

/// `K.apply` on every pair of elements of two same-shaped tensors.
func mapElements<K: BinaryVectorKernel>(_ a: Tensor, _ b: Tensor, _: K.Type) -> Tensor {
    mapElements(a, b, StaticBinaryMap<K>())
}

/// A C kernel (`kernel(source, destination, count)`) over the elements of `x`, over both cores
/// when it is large.
func mapElements(_ x: Tensor, kernel: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void) -> Tensor {
    KernelInstructionSet.prepare()
    return Tensor(shape: x.shape) { out in
        guard let dst = out.baseAddress else { return }
        x.withScalars { src in parallelVectorRanges(out.count) { start, end in kernel(src + start, dst + start, end - start) } }
    }
}

/// A C kernel (`kernel(a, b, destination, count)`) over the elements of two same-shaped tensors.
func mapElements(_ a: Tensor, _ b: Tensor,
                 kernel: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void) -> Tensor {
    precondition(a.shape == b.shape, "elementwise shapes \(a.shape) and \(b.shape) differ")
    KernelInstructionSet.prepare()
    return Tensor(shape: a.shape) { out in
        guard let dst = out.baseAddress else { return }
        a.withScalars { pa in b.withScalars { pb in
            parallelVectorRanges(out.count) { start, end in kernel(pa + start, pb + start, dst + start, end - start) }
        } }
    }
}

/// `f` on every element of `x`, over both cores when it is large.
func mapElements<F: UnaryVectorMap>(_ x: Tensor, _ f: F) -> Tensor {
    Tensor(shape: x.shape) { out in
        guard let dst = out.baseAddress else { return }
        x.withScalars { src in
            parallelVectorRanges(out.count) { start, end in
                var i = start
                while i + vectorWidth <= end { dst.storeVector(f(src.loadVector(i)), i); i += vectorWidth }
                if i < end { storePartial(f(loadPartial(src + i, end - i)), dst + i, end - i) }
            }
        }
    }
}

/// `f` on every pair of elements of two same-shaped tensors.
func mapElements<F: BinaryVectorMap>(_ a: Tensor, _ b: Tensor, _ f: F) -> Tensor {
    precondition(a.shape == b.shape, "elementwise shapes \(a.shape) and \(b.shape) differ")
    return Tensor(shape: a.shape) { out in
        guard let dst = out.baseAddress else { return }
        a.withScalars { pa in b.withScalars { pb in
            parallelVectorRanges(out.count) { start, end in
                var i = start
                while i + vectorWidth <= end {
                    dst.storeVector(f(pa.loadVector(i), pb.loadVector(i)), i)
                    i += vectorWidth
                }
                if i < end {
                    storePartial(f(loadPartial(pa + i, end - i), loadPartial(pb + i, end - i)), dst + i, end - i)
                }
            }
        } }
    }
}

/// `f` on every element of `x`, recorded as op `name` with the gradient `derivative(g, v)`,
/// where v is x, or the output when `fromOutput` (for functions whose derivative is cheapest
/// from their value: sigmoid, tanh, exp). The output is saved detached: saving the tensor
/// itself would keep it, and the graph behind it, alive through its own backward.
func recordedMap<F: UnaryVectorMap, D: BinaryVectorMap>(_ x: Tensor, _ name: String, _ f: F, derivative: D,
                                                        fromOutput: Bool = false) -> Tensor {
    let out = mapElements(x, f)
    let saved = fromOutput ? out.detached() : x
    return Tensor.record(out, op: name, inputs: [x]) { g, _ in [mapElements(g, saved, derivative)] }
}

/// `recordedMap` with static kernels.
func recordedMap<K: UnaryVectorKernel, D: BinaryVectorKernel>(_ x: Tensor, _ name: String, _: K.Type, derivative: D.Type,
                                                              fromOutput: Bool = false) -> Tensor {
    recordedMap(x, name, StaticUnaryMap<K>(), derivative: StaticBinaryMap<D>(), fromOutput: fromOutput)
}
