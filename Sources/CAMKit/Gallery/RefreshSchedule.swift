import Foundation

/// When a run refreshes the gallery's snapshots (`GalleryWriter.refresh`, whose cost grows with
/// the photos so far): at least `interval` seconds apart, and never taking more than a tenth of
/// the run's time, so that over a run of any length the refreshes stay a bounded share of the
/// work and the whole run stays linear in its photos.
struct RefreshSchedule {
    let interval: Duration
    private let clock = ContinuousClock()
    private var next: ContinuousClock.Instant

    init(interval: Duration) {
        self.interval = interval
        next = clock.now.advanced(by: interval)
    }

    var isDue: Bool { clock.now >= next }

    /// Times `refresh` and sets the next one after it.
    mutating func run(_ refresh: () throws -> Void) rethrows {
        let took = try clock.measure(refresh)
        next = clock.now.advanced(by: max(interval, took * 9))
    }
}
