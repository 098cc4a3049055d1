import Foundation

/// The yardstick of the GEMM rates a profile reports: this runtime's own sgemm (its tiles, its
/// threads, the OpenBLAS kernels chosen here) on one square product, measured in the same run.
public enum GEMMBenchmark {
    /// GFLOP/s of the best of `repeats` (n, n) × (n, n) products, after one untimed.
    public static func gigaflopsPerSecond(size n: Int = 1024, repeats: Int = 5) -> Double {
        let a = [Float](repeating: 0.5, count: n * n), b = [Float](repeating: 0.25, count: n * n)
        var c = [Float](repeating: 0, count: n * n)
        var best = Double.infinity
        a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in c.withUnsafeMutableBufferPointer { pc in
            for run in 0...max(1, repeats) {
                let start = DispatchTime.now().uptimeNanoseconds
                sgemm(pa.baseAddress!, pb.baseAddress!, pc.baseAddress!, m: n, n: n, k: n, transposeA: false, transposeB: false)
                if run > 0 { best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9) }
            }
        } } }
        return 2 * Double(n * n * n) / best / 1e9
    }
}
