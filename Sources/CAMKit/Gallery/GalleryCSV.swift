import Foundation

/// `results.csv`: one row per photo and model; a photo that could not be read has one row with
/// its error. Built a photo at a time, so a run can append each photo's rows as it finishes.
/// The metric columns (`GalleryMetrics`, in its units) are empty where nothing was computed.
public enum GalleryCSV {
    public static let header = ["file", "model", "predicted_index", "predicted_label", "confidence", "correct", "verdict",
                                "true_label", "target_label", "top5", "confidence_drop_pct", "confidence_increase", "pointing_hit",
                                "road_combined_pct", "overlay", "panel", "error"]

    /// The header line and the rows of every photo of `results`.
    public static func text(_ results: GalleryResults) -> String {
        results.images.reduce(into: CSV.line(header)) { $0 += rows($1) }
    }

    /// The lines of one photo.
    public static func rows(_ image: GalleryImageResult) -> String {
        let truth = image.truth?.text ?? ""
        if let error = image.error {
            return CSV.line([image.file, "", "", "", "", "", "", truth, "", "", "", "", "", "", "", "", error])
        }
        return image.results.map { r in
            let top = r.top.map { "\($0.label) \(String(format: "%.4f", $0.probability))" }.joined(separator: "; ")
            return CSV.line([image.file, r.model, String(r.predictedIndex), r.predictedLabel, String(format: "%.6f", r.confidence),
                             text(r.correct), r.verdict.rawValue, truth, r.targetLabel, top]
                            + metricFields(r.metrics) + [r.overlayFile, image.panelFile ?? "", ""])
        }.joined()
    }

    /// Drop, increase, pointing hit and ROAD combined, as the header names them.
    private static func metricFields(_ metrics: GalleryMetrics?) -> [String] {
        func number(_ value: Double?) -> String { value.map { String(format: "%.4f", $0) } ?? "" }
        return [number(metrics?.confidenceDrop), text(metrics?.confidenceIncrease), text(metrics?.pointingHit), number(metrics?.roadCombined)]
    }

    private static func text(_ value: Bool?) -> String { value.map { $0 ? "true" : "false" } ?? "" }
}
