import Foundation

/// Runs `work` for the items `0..<count` on `workers` threads of its own and hands each result
/// to `deliver` on the calling thread, in item order, so that whatever is written in
/// `deliver` is written as a serial run writes it.
///
/// Bounded: an item is started only while fewer than `window` are started and not yet
/// delivered (`window ≥ workers`); at most `workers` are being worked on, the rest wait as
/// finished results. If `deliver` throws, no further item is started, the items in flight are
/// finished and dropped, and the error is rethrown once every worker has stopped.
struct OrderedPipeline {
    let workers: Int
    let window: Int

    init(workers: Int, window: Int) {
        precondition(workers >= 1 && window >= workers, "a pipeline needs 1 ≤ workers ≤ window, got \(workers) and \(window)")
        self.workers = workers
        self.window = window
    }

    /// Workers are threads of their own, not work items of Dispatch's pool, which the kernels
    /// inside `work` share their loops out on (`parallelChunks`). Their stack is twice a main
    /// thread's, as model code may recurse as deep as it does there.
    static let stackSize = 16 << 20

    func run<T>(count: Int, work: @escaping (Int) -> T, deliver: (Int, T) throws -> Void) throws {
        guard count > 0 else { return }
        let state = PipelineState<T>(count: count, window: window)
        for _ in 0..<min(workers, count) {
            let thread = Thread { state.workLoop(work) }
            thread.stackSize = Self.stackSize
            state.started()
            thread.start()
        }
        do {
            for i in 0..<count {
                try deliver(i, state.take(i))
                state.delivered(i)
            }
        } catch {
            state.stopAndJoin()
            throw error
        }
        state.stopAndJoin()
    }
}

/// What the workers and the delivering thread of an `OrderedPipeline` share, under one lock.
private final class PipelineState<T>: @unchecked Sendable {
    private let condition = NSCondition()
    private let count: Int, window: Int
    private var next = 0, delivered = 0, running = 0
    private var stopped = false
    private var finished: [Int: T] = [:]

    init(count: Int, window: Int) {
        self.count = count
        self.window = window
    }

    func started() { condition.withLock { running += 1 } }

    func workLoop(_ work: (Int) -> T) {
        condition.lock()
        while true {
            while !stopped && next < count && next >= delivered + window { condition.wait() }
            guard !stopped && next < count else { break }
            let i = next
            next += 1
            condition.unlock()
            let value = work(i)
            condition.lock()
            finished[i] = value
            condition.broadcast()
        }
        running -= 1
        condition.broadcast()
        condition.unlock()
    }

    /// Item `i`'s result, once a worker has it.
    func take(_ i: Int) -> T {
        condition.withLock {
            while finished[i] == nil { condition.wait() }
            return finished.removeValue(forKey: i)!
        }
    }

    /// Item `i` is delivered: its place in the window is free.
    func delivered(_ i: Int) {
        condition.withLock {
            delivered = i + 1
            condition.broadcast()
        }
    }

    func stopAndJoin() {
        condition.withLock {
            stopped = true
            condition.broadcast()
            while running > 0 { condition.wait() }
        }
    }
}
