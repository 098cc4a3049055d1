import Foundation

/// Figure 3 of the case study: the per-model summary as a table, with the model's chart colour
/// beside its name so the table reads together with the two charts.
public struct StatisticsTable: Figure {
    public var statistics: [ConfidenceStatistics]
    public var title: String

    public init(statistics: [ConfidenceStatistics], title: String = "Confidence statistics per model") {
        self.statistics = statistics
        self.title = title
    }

    public init(records: [ConfidenceRecord], title: String = "Confidence statistics per model") {
        self.init(statistics: ConfidenceStatistics.perModel(records), title: title)
    }

    public static let headers = ["model", "n", "mean", "median", "std", "min", "max", "≥ 0.5", "accuracy"]
    static let rowHeight = 28.0, margin = 20.0, cellPadding = 14.0, top = 52.0

    /// The cells of one row, formatted as printed: confidences with four decimals like the case
    /// study, shares as percentages.
    public static func cells(_ s: ConfidenceStatistics) -> [String] {
        let accuracy = s.accuracy.map { percent($0, digits: 2) + (s.labelledCount < s.count ? " of \(s.labelledCount)" : "") } ?? "—"
        return [s.model, String(s.count)] + [s.mean, s.median, s.standardDeviation, s.minimum, s.maximum]
            .map { String(format: "%.4f", $0) } + [percent(s.shareAtLeastHalf, digits: 2), accuracy]
    }

    static let notes = [
        "std: population standard deviation (ddof = 0); ≥ 0.5: share of predictions with confidence ≥ 0.5;",
        "accuracy: right predictions among images with a known label (“of k” when only k are labelled).",
    ]

    private func columnWidths(_ style: ChartStyle) -> [Double] {
        let rows = statistics.map(Self.cells)
        return Self.headers.indices.map { c in
            let widest = ([style.bold.width(of: Self.headers[c])] + rows.map { style.label.width(of: $0[c]) }).max()!
            return (widest + 2 * Self.cellPadding + (c == 0 ? ChartStyle.swatch + 6 : 0)).rounded(.up)
        }
    }

    public func pageSize() throws -> (width: Int, height: Int) {
        guard !statistics.isEmpty else { throw RenderError.emptyFigure("a statistics table without models") }
        let style = try ChartStyle.load()
        let tableWidth = columnWidths(style).reduce(0, +)
        let noteWidth = Self.notes.map { style.note.width(of: $0) }.max()!
        let width = 2 * Self.margin + max(tableWidth, noteWidth, style.title.width(of: title))
        let height = Self.top + Self.rowHeight * Double(statistics.count + 1) + 20 + 16 * Double(Self.notes.count) + Self.margin
        return (Int(width.rounded(.up)), Int(height.rounded(.up)))
    }

    public func draw(on canvas: Canvas) throws {
        let style = try ChartStyle.load()
        let widths = columnWidths(style)
        canvas.drawText(title, x: Self.margin, baseline: 30, font: style.title, color: .text)
        let tableWidth = widths.reduce(0, +)
        let rows = [Self.headers] + statistics.map(Self.cells)
        for (r, row) in rows.enumerated() {
            let y = Self.top + Double(r) * Self.rowHeight
            if r > 0 && r % 2 == 0 {
                canvas.fill(Box(x: Self.margin, y: y, width: tableWidth, height: Self.rowHeight), RenderColor(hex: 0xF3F5F8))
            }
            var x = Self.margin
            for (c, cell) in row.enumerated() {
                let baseline = y + Self.rowHeight / 2 + 5
                if c == 0 {
                    var left = x + Self.cellPadding
                    if r > 0 {
                        canvas.fill(Box(x: left, y: (y + (Self.rowHeight - ChartStyle.swatch) / 2).rounded(),
                                        width: ChartStyle.swatch, height: ChartStyle.swatch), .model(r - 1))
                        left += ChartStyle.swatch + 6
                    }
                    canvas.drawText(cell, x: left, baseline: baseline, font: r == 0 ? style.bold : style.label, color: .text)
                } else {
                    canvas.drawText(cell, at: x + widths[c] - Self.cellPadding, baseline: baseline,
                                    font: r == 0 ? style.bold : style.label, align: .right)
                }
                x += widths[c]
            }
        }
        let headerBottom = Self.top + Self.rowHeight + 0.5
        canvas.line(from: (Self.margin, headerBottom), to: (Self.margin + tableWidth, headerBottom), .axis)
        let tableBottom = Self.top + Self.rowHeight * Double(rows.count) + 0.5
        canvas.line(from: (Self.margin, tableBottom), to: (Self.margin + tableWidth, tableBottom), .axis)
        for (i, note) in Self.notes.enumerated() {
            canvas.drawText(note, x: Self.margin, baseline: tableBottom + 22 + 16 * Double(i), font: style.note,
                            color: .secondaryText)
        }
    }
}
