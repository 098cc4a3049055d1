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
    /// Largest side of the overlay PNGs.
    public var overlayMaxSide = 800
    /// Least time between two refreshes of `results.json`, `index.html` and the charts during
    /// the run (they are always written at its start and end; `RefreshSchedule`).
    public var refreshInterval: Duration = .seconds(10)
    private let matchers: [LabelMatcher]

    public init(models: [ExplainableModel], options: ExplainOptions = ExplainOptions(), targetText: String = "top1", output: URL) {
        self.models = models
        self.options = options
        self.targetText = targetText
        self.output = output
        self.matchers = models.map { LabelMatcher.forModel(labels: $0.labels) }
    }

    private func emptyResults() -> GalleryResults {
        GalleryResults(models: models.map(\.name), method: options.method.rawValue, layer: options.layer, target: targetText)
    }

    /// Runs over `photos`. With `resume`, photos already explained by all these models in an
    /// earlier run into the same folder (same method, layer and target) are kept as they are.
    @discardableResult
    public func run(_ photos: [URL], resume: Bool = false) throws -> GalleryOutcome {
        var earlier: [String: GalleryImageResult] = [:]
        if resume, let previous = try GalleryWriter.load(from: output) {
            let current = emptyResults()
            for (what, old, new) in [("method", previous.method, current.method), ("layer", previous.layer ?? "default", current.layer ?? "default"),
                                     ("target", previous.target, current.target)] where old != new {
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
        var explained = 0, reused = 0
        for (i, photo) in photos.enumerated() {
            if slots[i] != nil {
                reused += 1
            } else {
                let image = explain(photo, folder: uniqueFolder(for: photo.lastPathComponent, taken: &slugs))
                try writer.add(image)
                slots[i] = image
                explained += 1
                pending -= 1
                if schedule.isDue { try schedule.run { try writer.refresh(results(), pending: pending) } }
            }
            progress?(GalleryProgress(done: i + 1, total: photos.count, reused: reused, file: photo.lastPathComponent))
        }
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

    private func uniqueFolder(for fileName: String, taken: inout Set<String>) -> String {
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

    private func explain(_ url: URL, folder: String) -> GalleryImageResult {
        let file = url.lastPathComponent
        let truth = truth(file)
        var record = GalleryImageResult(file: file, source: url.path, folder: folder, truth: truth, error: nil, panelFile: nil, results: [])
        do {
            let photo = try decoder.decode(contentsOf: url)
            let directory = output.appendingPathComponent(folder, isDirectory: true)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            AtomicFile.removeLeftovers(in: directory)
            var columns: [PanelColumn] = []
            for (model, matcher) in zip(models, matchers) {
                let explanation: Explanation
                do { explanation = try model.explain(photo, options: options) } catch {
                    throw GalleryPhotoError("\(model.name): \(error)")
                }
                let best = explanation.top[0]
                let verdict = matcher.verdict(predicted: best.index, truth: truth)
                let overlayFile = "\(folder)/\(Self.safeName(model.name)).png"
                try write(PictureFigure(image: explanation.overlay, maxSide: overlayMaxSide), to: overlayFile)
                record.results.append(GalleryModelResult(
                    model: model.name, predictedIndex: best.index, predictedLabel: best.label, confidence: best.probability,
                    top: explanation.top, targetLabel: explanation.targetLabel, verdict: verdict, overlayFile: overlayFile,
                    elapsedMilliseconds: explanation.elapsedMilliseconds))
                columns.append(PanelColumn(title: model.name, label: best.label, confidence: best.probability, image: explanation.overlay,
                                           isWrong: verdict == .wrong ? true : verdict == .correct ? false : nil,
                                           topK: explanation.top.prefix(3).map { ($0.label, $0.probability) }))
            }
            let panelFile = "\(folder)/panel.png"
            try write(Panel(photo: photo, photoTitle: file, trueLabel: truth?.text, columns: columns), to: panelFile)
            record.panelFile = panelFile
        } catch {
            record.error = "\(error)"
            record.results = []
            record.panelFile = nil
        }
        return record
    }

    /// A PNG of the gallery, atomically: a kill mid-photo leaves no broken picture behind.
    private func write(_ figure: some Figure, to file: String) throws {
        let url = output.appendingPathComponent(file)
        try AtomicFile.write(figure.render(as: .png, destination: url.path), to: url)
    }
}

/// A photo's failure, with the model that failed on it.
struct GalleryPhotoError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
