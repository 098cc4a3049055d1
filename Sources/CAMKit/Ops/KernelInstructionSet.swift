import CKernels
import Foundation

/// The instruction set the C kernels (Sources/CKernels) run, chosen once before the first of
/// them: the widest the CPU has, or `CAMKIT_ISA=baseline|avx2`. Every set gives the same bits.
public enum KernelInstructionSet {
    private static let chosen: ck_isa = ck_isa_choose(ProcessInfo.processInfo.environment["CAMKIT_ISA"])

    static func prepare() { _ = chosen }

    /// "baseline", "avx2" or "avx512".
    public static var name: String {
        switch chosen {
        case CK_ISA_AVX512: return "avx512"
        case CK_ISA_AVX2: return "avx2"
        default: return "baseline"
        }
    }
}
