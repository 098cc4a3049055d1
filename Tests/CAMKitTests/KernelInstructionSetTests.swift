import CKernels
import XCTest
@testable import CAMKit

/// The C kernels give the same bits on every instruction set the CPU has: each product and
/// sum is rounded on its own, in the same order, whatever the vector width.
final class KernelInstructionSetTests: XCTestCase {
    func testDepthwiseConvolutionIsBitIdenticalOnEveryInstructionSet() {
        KernelInstructionSet.prepare()
        let saved = ck_isa_level
        defer { ck_isa_level = saved }
        let levels = [CK_ISA_BASELINE, CK_ISA_AVX2, CK_ISA_AVX512].filter { $0.rawValue <= ck_isa_best().rawValue }
        // Widths around the 16-lane chunks, strides, dilation and uneven padding.
        let cases: [(input: [Int], kernel: Int, stride: Int, dilation: Int, padding: Padding2D)] = [
            ([1, 3, 7, 7], 3, 1, 1, .symmetric(1)),
            ([2, 4, 28, 33], 7, 1, 1, .symmetric(3)),
            ([1, 5, 17, 40], 5, 2, 1, Padding2D(top: 1, bottom: 2, left: 1, right: 2)),
            ([1, 2, 20, 19], 3, 1, 2, .symmetric(2)),
        ]
        for c in cases {
            let channels = c.input[1]
            let x = SeededWeights.input(shape: c.input)
            let w = SeededWeights.input(shape: [channels, 1, c.kernel, c.kernel])
            let b = SeededWeights.input(shape: [channels])
            var outputs: [[Float]] = []
            for level in levels {
                ck_isa_level = level
                outputs.append(conv2d(x, weight: w, bias: b, stride: (c.stride, c.stride), padding: c.padding,
                                      dilation: (c.dilation, c.dilation), groups: channels).scalars)
            }
            for (level, out) in zip(levels, outputs) {
                XCTAssertEqual(out.map(\.bitPattern), outputs[0].map(\.bitPattern), "\(c.input) at instruction set \(level.rawValue)")
            }
        }
    }

    func testGELUAndItsGradientAreBitIdenticalOnEveryInstructionSet() throws {
        KernelInstructionSet.prepare()
        let saved = ck_isa_level
        defer { ck_isa_level = saved }
        // Values across erf's range, the exp clamp, zeros of both signs, and a count that is no
        // whole number of vectors.
        let values: [Float] = (0..<1003).map { Float($0 - 501) * 0.0173 } + [-0.0, 0, -200, 200, 1e-30, -1e-30]
        var results: [[UInt32]] = []
        for level in [CK_ISA_BASELINE, CK_ISA_AVX2, CK_ISA_AVX512] where level.rawValue <= ck_isa_best().rawValue {
            ck_isa_level = level
            let x = Tensor(shape: [values.count], scalars: values, requiresGrad: true)
            let y = gelu(x)
            try y.backward(seed: Tensor(shape: y.shape, scalars: values.map { 1 - $0 * 0.25 }))
            results.append(y.scalars.map(\.bitPattern) + x.grad!.scalars.map(\.bitPattern))
        }
        for r in results.dropFirst() { XCTAssertEqual(r, results[0]) }
        // GELU(0) = 0, its slope there 1/2, and far out it is the identity or 0.
        XCTAssertEqual(gelu(Tensor(shape: [3], scalars: [0, 10, -10])).scalars, [0, 10, 0])
    }

    func testLayerNorm2dAndItsGradientAreBitIdenticalOnEveryInstructionSet() throws {
        KernelInstructionSet.prepare()
        let saved = ck_isa_level
        defer { ck_isa_level = saved }
        // A 7 x 7 map split over the cores, a plane of several tiles with a ragged last one, and
        // no affine parameters.
        for (shape, affine) in [([1, 24, 7, 7], true), ([2, 5, 19, 17], true), ([1, 3, 4, 5], false)] {
            let c = shape[1]
            var results: [[UInt32]] = []
            for level in [CK_ISA_BASELINE, CK_ISA_AVX2, CK_ISA_AVX512] where level.rawValue <= ck_isa_best().rawValue {
                ck_isa_level = level
                let x = Tensor(shape: shape, scalars: SeededWeights.input(shape: shape).scalars, requiresGrad: true)
                let y = layerNorm2d(x, weight: affine ? SeededWeights.input(shape: [c], seed: 3) : nil,
                                    bias: affine ? SeededWeights.input(shape: [c], seed: 4) : nil, eps: 1e-6)
                try y.backward(seed: SeededWeights.input(shape: shape, seed: 5))
                results.append(y.scalars.map(\.bitPattern) + x.grad!.scalars.map(\.bitPattern))
            }
            for r in results.dropFirst() { XCTAssertEqual(r, results[0], "\(shape)") }
        }
    }
}
