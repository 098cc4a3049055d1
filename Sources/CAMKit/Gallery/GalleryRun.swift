import Foundation

/// Where a gallery run is: after each photo, for progress bars.
public struct GalleryProgress: Sendable {
    public var done: Int
    public var total: Int
    /// Photos taken from an earlier run (`resume`) rather than explained now.
    public var reused: Int
    public var file: String
}

/// What a run did.
public struct GalleryOutcome: Sendable {
    public var results: GalleryResults
    /// Photos explained in this run.
    public var explained: Int
    /// Photos whose earlier results were kept (`resume`).
    public var reused: Int
    /// Photos that could not be explained (corrupt, unsupported …).
    public var bad: [GalleryImageResult] { results.badImages }
}

/// Explains every photo with every model and writes the gallery as it goes (`GalleryWriter`):
/// per photo a panel and one overlay per model under `images/<photo>/`, then its results.
/// Bad photos are recorded and the run goes on. Nothing is kept per photo but its results:
/// pictures and maps are dropped once written.
///
/// Up to `jobs` photos are decoded, explained, drawn and encoded at once (`OrderedPipeline`),
/// so one photo's drawing and encoding overlap another's explains; their results are recorded
/// in photo order, so `results.csv`, `results.json`, the journal and every picture are those
/// of a run with `jobs` 1, timings aside.
public final class GalleryRun {
    public let models: [ExplainableModel]
    public let options: ExplainOptions
    /// The target as the user wrote it (`top1`, a label …), recorded in the results.
    public let targetText: String
    public let output: URL
    public var decoder = ImageDecoder()
    /// Ground truth by photo file name.
    public var truth: (String) -> GroundTruth? = { _ in nil }
    /// Called after every photo (also for the ones resumed).
    public var progress: ((GalleryProgress) -> Void)?
    /// Largest side of the overlay PNGs, 0 for the photo's own size: overlays are drawn at the
    /// photo's resolution, then scaled down (`RGBImage.fitted`) so that the files stay quick to
    /// encode and to load in the page.
    public var overlayMaxSide = 1600
    /// Photos worked on at once, at least 1. Default: one per core. The explains themselves
    /// also use every core (`ComputeThreads`); more photos in flight fill the time they do not.
    public var jobs = ProcessInfo.processInfo.activeProcessorCount
    /// Least time between two refreshes of `results.json`, `index.html` and the charts during
    /// the run (they are always written at its start and end; `RefreshSchedule`).
    public var refreshInterval: Duration = .seconds(10)
    /// The quality measures of every map (`GalleryMetricSet`); they cost forward passes, so none by default.
    public var metrics = GalleryMetricSet.none
    private let matchers: [LabelMatcher]

    public init(models: [ExplainableModel], options: ExplainOptions = ExplainOptions(), targetText: String = "top1", output: URL) {
        self.models = models
        self.options = options
        self.targetText = targetText
        self.output = output
        self.matchers = models.map { LabelMatcher.forModel(labels: $0.labels) }
    }

    private func emptyResults() -> GalleryResults {
        GalleryResults(models: models.map(\.name), method: options.method.rawValue, layer: options.layer, target: targetText,
                       metrics: metrics.rawValue)
    }

    /// Runs over `photos`. With `resume`, photos already explained by all these models in an
    /// earlier run into the same folder (same method, layer, target and metrics) are kept as they are.
    @discardableResult
    public func run(_ photos: [URL], resume: Bool = false) throws -> GalleryOutcome {
        guard jobs >= 1 else { throw GalleryError.invalidSetting("jobs \(jobs): at least one photo must be worked on at a time") }
        guard overlayMaxSide >= 0 else {
            throw GalleryError.invalidSetting("overlay max side \(overlayMaxSide): give a size in pixels, or 0 to keep the photo's size")
        }
        var earlier: [String: GalleryImageResult] = [:]
        if resume, let previous = try GalleryWriter.load(from: output) {
            let current = emptyResults()
            for (what, old, new) in [("method", previous.method, current.method), ("layer", previous.layer ?? "default", current.layer ?? "default"),
                                     ("target", previous.target, current.target),
                                     ("metrics", GalleryMetricSet.name(recorded: previous.metrics), metrics.rawValue)] where old != new {
                throw GalleryError.resumeMismatch("\(output.path) was made with \(what) \(old), this run asks for \(new)")
            }
            for image in previous.images where isComplete(image) { earlier[image.source] = image }
        }

        // One slot per photo, in order: the kept photos now, the others as they finish.
        var slots = photos.map { earlier[$0.path] }
        var slugs = Set(slots.compactMap { $0?.folder })
        func results() -> GalleryResults {
            var results = emptyResults()
            results.images = slots.compactMap { $0 }
            return results
        }
        let kept = results()
        var pending = photos.count - kept.images.count
        let writer = try GalleryWriter(folder: output, starting: kept, pending: pending)
        var schedule = RefreshSchedule(interval: refreshInterval)
        // Folders are given out in photo order, as a serial run does, before any work starts.
        let todo = photos.indices.filter { slots[$0] == nil }
        let folders = todo.map { Self.uniqueFolder(for: photos[$0].lastPathComponent, taken: &slugs) }
        let explainer = photoExplainer()
        var explained = 0, reused = 0, reported = 0
        // Progress goes in photo order: the kept photos before each one explained now come first.
        func reportKeptPhotos(before end: Int) {
            while reported < end {
                reused += 1
                reported += 1
                progress?(GalleryProgress(done: reported, total: photos.count, reused: reused, file: photos[reported - 1].lastPathComponent))
            }
        }
        try OrderedPipeline(workers: jobs, window: 2 * jobs).run(count: todo.count, work: { n in
            explainer.explain(photos[todo[n]], folder: folders[n])
        }, deliver: { n, image in
            let i = todo[n]
            reportKeptPhotos(before: i)
            try writer.add(image)
            slots[i] = image
            explained += 1
            pending -= 1
            if schedule.isDue { try schedule.run { try writer.refresh(results(), pending: pending) } }
            reported = i + 1
            progress?(GalleryProgress(done: reported, total: photos.count, reused: reused, file: photos[i].lastPathComponent))
        })
        reportKeptPhotos(before: photos.count)
        let finished = results()
        try writer.finish(finished)
        return GalleryOutcome(results: finished, explained: explained, reused: reused)
    }

    /// Finished by every model of this run, and its files still there. Bad photos are tried again.
    private func isComplete(_ image: GalleryImageResult) -> Bool {
        guard !image.isBad, let panel = image.panelFile, Set(image.results.map(\.model)) == Set(models.map(\.name)) else { return false }
        let manager = FileManager.default
        return ([panel] + image.results.map(\.overlayFile)).allSatisfy {
            manager.fileExists(atPath: output.appendingPathComponent($0).path)
        }
    }

    /// The photo's folder, `images/<name>`, numbered when taken; `GalleryMerge` gives folders
    /// out the same way, so a merged gallery names its pictures as a single run does.
    static func uniqueFolder(for fileName: String, taken: inout Set<String>) -> String {
        let base = "images/" + Self.safeName(fileName).replacingOccurrences(of: ".", with: "_")
        var folder = base
        var n = 2
        while taken.contains(folder) { folder = "\(base)-\(n)"; n += 1 }
        taken.insert(folder)
        return folder
    }

    /// Letters, digits, `.`, `_` and `-`; anything else becomes `_`.
    public static func safeName(_ name: String) -> String {
        let cleaned = String(name.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "_" || $0 == "-") ? $0 : "_" })
        let trimmed = cleaned.hasPrefix(".") ? "_" + cleaned.dropFirst() : cleaned
        return trimmed.isEmpty ? "_" : trimmed
    }

    private func photoExplainer() -> GalleryPhotoExplainer {
        GalleryPhotoExplainer(models: models, matchers: matchers, options: options, decoder: decoder, output: output,
                              overlayMaxSide: overlayMaxSide, metrics: metrics, truth: truth)
    }
}
