import Foundation

/// Figure 1 of the case study: per-image confidence, one group of bars per image and one bar
/// per model, so a reader sees where the models agree and where one is unsure or wrong.
/// A wrong prediction gets a "✗" and its predicted label, in `RenderColor.wrong`, above its bar.
public struct ConfidenceComparisonChart: Figure {
    public var records: [ConfidenceRecord]
    public var title: String

    public init(records: [ConfidenceRecord], title: String = "Confidence per image") {
        self.records = records
        self.title = title
    }

    static let barWidth = 16.0, groupGap = 22.0, plotHeight = 300.0, plotTop = 112.0
    static let labelRoom = 140.0, bottom = 118.0

    private var groupWidth: Double { Double(records.modelNames.count) * Self.barWidth + Self.groupGap }

    /// The left margin: room for the tick labels and for the first image name, which slants to the left.
    private func plotLeft(_ style: ChartStyle) -> Double {
        let longest = records.imageNames.map { style.tick.width(of: style.tick.fitting($0, width: Self.labelRoom)) }.max() ?? 0
        return max(76, (longest * cos(Double.pi / 6) - groupWidth / 2 + 12).rounded())
    }

    private func plotWidth(_ style: ChartStyle) -> Double {
        max(Double(records.imageNames.count) * groupWidth, style.legendWidth(records.modelNames), 420)
    }

    public func pageSize() throws -> (width: Int, height: Int) {
        guard !records.isEmpty else { throw RenderError.emptyFigure("a confidence comparison without records") }
        let style = try ChartStyle.load()
        return (Int(plotLeft(style) + plotWidth(style) + 24), Int(Self.plotTop + Self.plotHeight + Self.bottom))
    }

    public func draw(on canvas: Canvas) throws {
        let style = try ChartStyle.load()
        let models = records.modelNames, images = records.imageNames
        let plot = Box(x: plotLeft(style), y: Self.plotTop, width: plotWidth(style), height: Self.plotHeight)
        canvas.drawText(title, at: Double(canvas.width) / 2, baseline: 28, font: style.title, align: .center)
        style.drawLegend(models, on: canvas, right: plot.maxX, baseline: 56)
        style.drawValueAxis(on: canvas, plot: plot, maximum: 1, ticks: stride(from: 0, through: 1, by: 0.2).map { $0 },
                            format: { String(format: "%.1f", $0) })
        let half = (plot.maxY - 0.5 * plot.height).rounded() + 0.5
        canvas.line(from: (plot.x, half), to: (plot.maxX, half), .secondaryText, dash: 4)
        style.drawValueAxisTitle("confidence", on: canvas, x: plot.x - 46, plot: plot)

        var byKey: [String: ConfidenceRecord] = [:]
        for record in records where byKey[record.imageName + "\u{0}" + record.modelName] == nil {
            byKey[record.imageName + "\u{0}" + record.modelName] = record
        }
        let offset = (plot.width - Double(images.count) * groupWidth) / 2
        for (g, image) in images.enumerated() {
            let groupLeft = plot.x + offset + Double(g) * groupWidth + Self.groupGap / 2
            for (m, model) in models.enumerated() {
                guard let record = byKey[image + "\u{0}" + model] else { continue }
                let x = (groupLeft + Double(m) * Self.barWidth).rounded()
                let height = (min(max(record.confidence, 0), 1) * plot.height).rounded()
                canvas.fill(Box(x: x, y: plot.maxY - height, width: Self.barWidth - 2, height: height), .model(m))
                if record.correct == false {
                    let center = x + (Self.barWidth - 2) / 2, top = plot.maxY - height
                    canvas.drawText("✗", at: center, baseline: top - 4, font: style.note, color: .wrong, align: .center)
                    canvas.drawRotatedText(record.predictedLabel, anchor: (center + 4, top - 18), angle: -Double.pi / 2,
                                           font: style.note, color: .wrong, align: .left,
                                           maxWidth: max(top - 18 - 66, 30))
                }
            }
            let center = groupLeft + Double(models.count) * Self.barWidth / 2
            canvas.drawRotatedText(image, anchor: (center, plot.maxY + 18), angle: -Double.pi / 6, font: style.tick,
                                   color: .text, align: .right, maxWidth: Self.labelRoom)
        }
        canvas.drawText("image", at: plot.x + plot.width / 2, baseline: Double(canvas.height) - 10, font: style.label,
                        align: .center)
        if records.contains(where: { $0.correct == false }) {
            canvas.drawText("✗ wrong prediction: the predicted label stands above the bar", at: plot.maxX, baseline: 80,
                            font: style.note, color: .wrong, align: .right)
        }
    }
}
