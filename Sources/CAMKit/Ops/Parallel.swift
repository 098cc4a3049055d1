import Foundation

/// Cores the CPU kernels split large work over.
let kernelThreadCount = max(1, ProcessInfo.processInfo.activeProcessorCount)

/// Runs `body` over contiguous sub-ranges of `0..<count`, one per core, when every range gets
/// at least `grain` items; smaller work runs inline because a dispatch costs microseconds.
/// Kernels get whole ranges so that each worker allocates its scratch buffers once.
func parallelChunks(_ count: Int, grain: Int = 1, _ body: (Range<Int>) -> Void) {
    let chunks = min(kernelThreadCount, count / max(grain, 1))
    guard chunks > 1 else {
        if count > 0 { body(0..<count) }
        return
    }
    DispatchQueue.concurrentPerform(iterations: chunks) { k in
        body(count * k / chunks ..< count * (k + 1) / chunks)
    }
}
