import Foundation

/// What a gallery does to one photo: decodes it, explains it with every model (measuring each
/// map as `metrics` asks, `GalleryMetrics.measure`), writes one overlay per model and the panel
/// under the photo's folder, and returns its record (with the error instead when any step
/// fails). It holds nothing of a photo once it returns.
///
/// Several threads may explain different photos with one explainer at once: models serialise
/// their own explains (`ExplainableModel`), and everything else here only reads shared state.
/// A photo's files depend on the photo and the settings alone, never on what runs beside it.
struct GalleryPhotoExplainer {
    let models: [ExplainableModel]
    let matchers: [LabelMatcher]
    let options: ExplainOptions
    let decoder: ImageDecoder
    let output: URL
    /// Largest side of the overlay PNGs (0: the photo's own size); the overlay is drawn at the
    /// photo's resolution and only then scaled down.
    let overlayMaxSide: Int
    let metrics: GalleryMetricSet
    let truth: (String) -> GroundTruth?

    func explain(_ url: URL, folder: String) -> GalleryImageResult {
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
                let metrics: GalleryMetrics?
                do {
                    explanation = try model.explain(photo, options: options)
                    metrics = try GalleryMetrics.measure(explanation, by: model, photoWidth: photo.width, photoHeight: photo.height,
                                                         box: truth?.box, set: self.metrics)
                } catch {
                    throw GalleryPhotoError("\(model.name): \(error)")
                }
                let best = explanation.top[0]
                let verdict = matcher.verdict(predicted: best.index, truth: truth)
                let overlayFile = "\(folder)/\(GalleryRun.safeName(model.name)).png"
                // The panel shrinks it further: the scaled overlay serves it as well as the full one.
                let overlay = explanation.overlay.fitted(maxSide: overlayMaxSide)
                try write(PNGEncoder.standard.encode(overlay, destination: output.appendingPathComponent(overlayFile).path), to: overlayFile)
                record.results.append(GalleryModelResult(
                    model: model.name, predictedIndex: best.index, predictedLabel: best.label, confidence: best.probability,
                    top: explanation.top, targetLabel: explanation.targetLabel, verdict: verdict, overlayFile: overlayFile,
                    elapsedMilliseconds: explanation.elapsedMilliseconds, metrics: metrics))
                columns.append(PanelColumn(title: model.name, label: best.label, confidence: best.probability, image: overlay,
                                           isWrong: verdict == .wrong ? true : verdict == .correct ? false : nil,
                                           topK: explanation.top.prefix(3).map { ($0.label, $0.probability) }))
            }
            let panelFile = "\(folder)/panel.png"
            let panel = Panel(photo: photo, photoTitle: file, trueLabel: truth?.text, columns: columns)
            try write(panel.render(as: .png, destination: output.appendingPathComponent(panelFile).path), to: panelFile)
            record.panelFile = panelFile
        } catch {
            record.error = "\(error)"
            record.results = []
            record.panelFile = nil
        }
        return record
    }

    /// A PNG of the gallery, atomically: a kill mid-photo leaves no broken picture behind.
    private func write(_ data: Data, to file: String) throws {
        try AtomicFile.write(data, to: output.appendingPathComponent(file))
    }
}

/// A photo's failure, with the model that failed on it.
struct GalleryPhotoError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
