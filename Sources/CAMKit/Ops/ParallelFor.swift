import Foundation

/// Splits `0..<count` into one contiguous range per core and runs `body` on them concurrently.
///
/// Kernels hand whole ranges to a worker so it can allocate its scratch buffers once.
/// Small jobs run inline: waking the other cores costs more than they would save.
func parallelFor(_ count: Int, minimumWorkPerChunk: Int = 1, _ body: (Range<Int>) -> Void) {
    let cores = ProcessInfo.processInfo.activeProcessorCount
    let chunks = min(cores, count / max(1, minimumWorkPerChunk))
    if chunks <= 1 {
        if count > 0 { body(0..<count) }
        return
    }
    DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
        body((chunk * count / chunks)..<((chunk + 1) * count / chunks))
    }
}
