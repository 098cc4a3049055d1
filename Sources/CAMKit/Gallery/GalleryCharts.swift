import Foundation

/// The gallery's charts, kept up to date at a cost that does not grow with the run: the
/// confidence comparison is split into pages of `pageSize` photos, and a refresh draws only the
/// pages whose photos changed since it last drew them, plus the histogram and the table, whose
/// size does not depend on the number of photos. One comparison over every photo would be drawn
/// anew on every refresh, in memory that grows with the photos (and Cairo draws nothing wider
/// than 32767 pixels: about 600 photos with two models).
final class GalleryCharts {
    static let pageSize = 50
    static let histogram = ("confidence-histogram.png", "Confidence distribution per model (bins of 0.1)")
    static let table = ("statistics-table.png", "Confidence statistics per model")

    let folder: URL
    /// What each file was last drawn from.
    private var drawn: [String: [ConfidenceRecord]] = [:]

    init(folder: URL) { self.folder = folder }

    /// The comparison page `index` (0-based): the first keeps the name of the single chart.
    static func comparisonFile(page index: Int) -> String {
        index == 0 ? "confidence-comparison.png" : "confidence-comparison-\(index + 1).png"
    }

    /// Draws what changed; returns every chart with its caption, in the order the page shows them.
    func refresh(_ records: [ConfidenceRecord]) throws -> [(file: String, caption: String)] {
        guard !records.isEmpty else { return [] }
        var pageOf: [String: Int] = [:]
        var pages: [[ConfidenceRecord]] = []
        for record in records {
            let page = pageOf[record.imageName] ?? {
                let page = pageOf.count / Self.pageSize
                pageOf[record.imageName] = page
                if page == pages.count { pages.append([]) }
                return page
            }()
            pages[page].append(record)
        }
        var charts: [(file: String, caption: String)] = []
        for (index, page) in pages.enumerated() {
            let file = Self.comparisonFile(page: index)
            // Only what the page's own records decide, so a page that is full is never drawn again.
            let first = index * Self.pageSize + 1, last = index * Self.pageSize + page.imageNames.count
            let photos = first == last ? "photo \(first)" : "photos \(first)–\(last)"
            let title = "Confidence per image, \(photos)"
            let caption = "Confidence per image and model, \(photos) (wrong predictions marked)"
            try draw(ConfidenceComparisonChart(records: page, title: title), from: page, to: file)
            charts.append((file, caption))
        }
        try draw(ConfidenceHistogramChart(records: records), from: records, to: Self.histogram.0)
        try draw(StatisticsTable(records: records), from: records, to: Self.table.0)
        return charts + [Self.histogram, Self.table]
    }

    private func draw(_ figure: some Figure, from records: [ConfidenceRecord], to file: String) throws {
        guard drawn[file] != records else { return }
        try AtomicFile.write(figure.render(as: .png, destination: file), to: folder.appendingPathComponent(file))
        drawn[file] = records
    }
}
