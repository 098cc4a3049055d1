import Foundation

/// Who may explain and who waits. At most `slots` requests explain at once; at most
/// `queueLimit` more are admitted to read their body or wait for a slot. Admission comes
/// before the body is read, so a flood is turned away before its bodies fill the memory.
///
/// A lock rather than an actor: admitting and releasing are synchronous, so a request gives its
/// place back on every path (`defer`) without spawning a task.
final class RequestQueue: @unchecked Sendable {
    /// A request waiting for a slot; `resume` is called exactly once, by whoever removes it.
    private struct Waiter {
        let id: Int
        let continuation: CheckedContinuation<Void, Error>
    }

    /// Thrown by `acquire` when the deadline passes before a slot frees.
    struct Timeout: Error {}

    let slots: Int
    let queueLimit: Int
    private let lock = NSLock()
    private var admitted = 0
    private var running = 0
    private var waiters: [Waiter] = []
    private var nextID = 0
    /// Moving average of how long a slot is held, for Retry-After.
    private var meanHoldSeconds = 0.0

    init(slots: Int, queueLimit: Int) {
        self.slots = max(1, slots)
        self.queueLimit = max(0, queueLimit)
    }

    /// Requests admitted (reading their body, waiting or explaining), explaining, and waiting for a slot.
    var counts: (admitted: Int, running: Int, waiting: Int) {
        lock.withLock { (admitted, running, waiters.count) }
    }

    /// Takes a place unless `slots + queueLimit` requests are already in; pair with `dismiss`.
    func admit() -> Bool {
        lock.withLock {
            guard admitted < slots + queueLimit else { return false }
            admitted += 1
            return true
        }
    }

    /// Gives back the place `admit` took.
    func dismiss() {
        lock.withLock { admitted -= 1 }
    }

    /// Waits, in order of arrival, for a slot until `deadline`; pair with `release`.
    func acquire(until deadline: ContinuousClock.Instant) async throws {
        let id = lock.withLock { () -> Int in nextID += 1; return nextID }
        let timer = Task {
            try await Task.sleep(until: deadline, clock: .continuous)
            self.expire(id)
        }
        defer { timer.cancel() }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
            enum Outcome { case granted, late, queued }
            let outcome: Outcome = lock.withLock {
                if running < slots && waiters.isEmpty {
                    running += 1
                    return .granted
                }
                // The timer takes the lock after the deadline: either it finds this waiter or the clock says so here.
                guard ContinuousClock.now < deadline else { return .late }
                waiters.append(Waiter(id: id, continuation: continuation))
                return .queued
            }
            switch outcome {
            case .granted: continuation.resume()
            case .late: continuation.resume(throwing: Timeout())
            case .queued: break
            }
        }
    }

    /// Gives back the slot `acquire` took, held for `held`; the next waiter gets it at once.
    func release(held: Duration) {
        let next: Waiter? = lock.withLock {
            meanHoldSeconds = meanHoldSeconds == 0 ? held.inSeconds : 0.8 * meanHoldSeconds + 0.2 * held.inSeconds
            if waiters.isEmpty {
                running -= 1
                return nil
            }
            return waiters.removeFirst()
        }
        next?.continuation.resume()
    }

    /// Seconds until the requests ahead of a newcomer have likely been explained (at least 1).
    var retryAfterSeconds: Int {
        lock.withLock {
            let ahead = Double(admitted - running + 1) / Double(slots)
            return max(1, Int((meanHoldSeconds * ahead).rounded(.up)))
        }
    }

    private func expire(_ id: Int) {
        let waiter: Waiter? = lock.withLock {
            guard let index = waiters.firstIndex(where: { $0.id == id }) else { return nil }
            return waiters.remove(at: index)
        }
        waiter?.continuation.resume(throwing: Timeout())
    }
}
