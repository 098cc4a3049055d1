import CKernels
import COpenBLAS
import Foundation

/// How many threads the CPU kernels use, GEMMs included: `CAMKIT_THREADS` when it is set to a
/// positive whole number, else one per core.
///
/// Every kernel gives each output element to exactly one thread, which sums it in an order
/// fixed by the shapes alone, so maps and logits are bit-identical whatever the count
/// (`DeterminismTests`); the count only trades speed against cores left to other work.
public enum ComputeThreads {
    private static let lock = NSLock()
    private static var current = fromEnvironment()

    /// At least 1.
    public static var count: Int {
        get { lock.withLock { current } }
        set { lock.withLock { current = max(1, newValue) } }
    }

    private static func fromEnvironment() -> Int {
        guard let text = ProcessInfo.processInfo.environment["CAMKIT_THREADS"], let n = Int(text), n > 0 else {
            return max(1, ProcessInfo.processInfo.activeProcessorCount)
        }
        return n
    }

    /// OpenBLAS keeps to one thread of its own, set once before its first call: `sgemm`
    /// shares its tiles over ours (see there). Before that it is given the CPU's own kernels
    /// where it runs older ones, or those `CAMKIT_OPENBLAS_CORETYPE` names (`inherit` keeps
    /// OpenBLAS's choice; see `ck_openblas_choose_core`): twice the GEMM speed on Zen 4.
    /// Large tensors are also kept for reuse from then on (`ck_reuse_large_allocations`).
    private static let openBLASCore: String? = {
        ck_reuse_large_allocations()
        let requested = ProcessInfo.processInfo.environment["CAMKIT_OPENBLAS_CORETYPE"]
        let core = ck_openblas_choose_core(requested).map { String(cString: $0) }
        if let requested, !requested.isEmpty, requested.lowercased() != "inherit",
           core?.lowercased() != requested.lowercased() {
            FileHandle.standardError.write(Data(
                "CAMKIT_OPENBLAS_CORETYPE=\(requested): this OpenBLAS cannot use that kernel set; using \(core ?? "its own")\n".utf8))
        }
        openblas_set_num_threads(1)
        return core
    }()

    static func keepOpenBLASSingleThreaded() { _ = openBLASCore }

    /// The kernel set OpenBLAS runs ("Cooperlake", "Haswell", …), for benchmarks and reports.
    public static var openBLASCoreName: String? { openBLASCore }
}

/// Runs `body` over contiguous sub-ranges of `0..<count`, one per thread, when every range gets
/// at least `grain` items; smaller work runs inline because a dispatch costs microseconds.
/// Kernels get whole ranges so that each worker allocates its scratch buffers once.
func parallelChunks(_ count: Int, grain: Int = 1, _ body: (Range<Int>) -> Void) {
    let chunks = min(ComputeThreads.count, count / max(grain, 1))
    guard chunks > 1 else {
        if count > 0 { body(0..<count) }
        return
    }
    DispatchQueue.concurrentPerform(iterations: chunks) { k in
        body(count * k / chunks ..< count * (k + 1) / chunks)
    }
}
