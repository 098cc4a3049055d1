import Foundation

/// `results.csv`: one row per photo and model; a photo that could not be read has one row with
/// its error. Built a photo at a time, so a run can append each photo's rows as it finishes.
public enum GalleryCSV {
    public static let header = ["file", "model", "predicted_index", "predicted_label", "confidence", "correct", "verdict",
                                "true_label", "target_label", "top5", "overlay", "panel", "error"]

    /// The header line and the rows of every photo of `results`.
    public static func text(_ results: GalleryResults) -> String {
        results.images.reduce(into: CSV.line(header)) { $0 += rows($1) }
    }

    /// The lines of one photo.
    public static func rows(_ image: GalleryImageResult) -> String {
        let truth = image.truth?.text ?? ""
        if let error = image.error {
            return CSV.line([image.file, "", "", "", "", "", "", truth, "", "", "", "", error])
        }
        return image.results.map { r in
            let top = r.top.map { "\($0.label) \(String(format: "%.4f", $0.probability))" }.joined(separator: "; ")
            return CSV.line([image.file, r.model, String(r.predictedIndex), r.predictedLabel, String(format: "%.6f", r.confidence),
                             r.correct.map { $0 ? "true" : "false" } ?? "", r.verdict.rawValue, truth, r.targetLabel, top,
                             r.overlayFile, image.panelFile ?? "", ""])
        }.joined()
    }
}
