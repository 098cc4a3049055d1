import CAMKit
import Foundation

/// The `--profile` table of the bench commands: forward time per op kind, and the GEMMs' rate
/// against this runtime's sgemm measured in the same run.
func printProfile(_ graph: Graph, input: Tensor, repeats: Int) {
    let profile = GraphProfile.measure(graph, input: input, repeats: repeats)
    let yardstick = GEMMBenchmark.gigaflopsPerSecond()
    print("OpenBLAS kernels \(ComputeThreads.openBLASCoreName ?? "unknown"), C kernels \(KernelInstructionSet.name), "
        + "\(ComputeThreads.count) threads; "
        + String(format: "sgemm 1024³ here: %.0f GFLOP/s", yardstick))
    print("op kind                      ms/pass   share    ops   GFLOP/s")
    let total = profile.totalMilliseconds
    for e in profile.entries {
        let rate = e.gigaflopsPerSecond.map { String(format: "%9.0f", $0) } ?? ""
        print(e.kind.padding(toLength: 24, withPad: " ", startingAt: 0)
            + String(format: "%11.2f  %5.1f %%  %5d", e.milliseconds, 100 * e.milliseconds / total, e.count) + rate)
    }
    if let gemm = profile.gemmGigaflopsPerSecond {
        print(String(format: "GEMM-based ops together: %.0f GFLOP/s, %.0f %% of the sgemm measured here", gemm, 100 * gemm / yardstick))
    }
}
