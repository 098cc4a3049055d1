import Foundation

/// Figure 2 of the case study: one confidence histogram per model, side by side on a common
/// count axis, so the shift of the distribution between models is visible.
public struct ConfidenceHistogramChart: Figure {
    public var records: [ConfidenceRecord]
    public var title: String

    public init(records: [ConfidenceRecord], title: String = "Confidence distribution (bins of 0.1)") {
        self.records = records
        self.title = title
    }

    public static let binCount = 10

    /// Counts per bin of width 0.1 on [0, 1], exactly as `numpy.histogram(values, bins=10,
    /// range=(0, 1))`: bins are half-open except the last, which includes 1; values outside
    /// [0, 1] are not counted. numpy's edges are `i * 0.1`, so e.g. 0.3 falls in [0.2, 0.3…04).
    public static func binCounts(_ values: [Double]) -> [Int] {
        let edges = (0...binCount).map { Double($0) * (1.0 / Double(binCount)) }
        var counts = [Int](repeating: 0, count: binCount)
        for value in values where value >= 0 && value <= 1 {
            var index = min(Int(value * Double(binCount)), binCount - 1)
            if value < edges[index] { index -= 1 }
            if value >= edges[index + 1] && index != binCount - 1 { index += 1 }
            counts[index] += 1
        }
        return counts
    }

    static let binWidth = 25.0, plotHeight = 200.0, plotTop = 96.0, axisRoom = 44.0, spacing = 28.0

    private var subplotPitch: Double { Self.axisRoom + Double(Self.binCount) * Self.binWidth + Self.spacing }

    public func pageSize() throws -> (width: Int, height: Int) {
        guard !records.isEmpty else { throw RenderError.emptyFigure("a confidence histogram without records") }
        let width = 30 + Double(records.modelNames.count) * subplotPitch
        return (Int(max(width, 420)), Int(Self.plotTop + Self.plotHeight + 62))
    }

    public func draw(on canvas: Canvas) throws {
        let style = try ChartStyle.load()
        let models = records.modelNames
        let counts = models.map { model in Self.binCounts(records.filter { $0.modelName == model }.map(\.confidence)) }
        let (step, maximum) = Self.countAxis(counts.joined().max() ?? 0)
        canvas.drawText(title, at: Double(canvas.width) / 2, baseline: 28, font: style.title, align: .center)
        for (m, model) in models.enumerated() {
            let plot = Box(x: 30 + Self.axisRoom + Double(m) * subplotPitch, y: Self.plotTop,
                           width: Double(Self.binCount) * Self.binWidth, height: Self.plotHeight)
            let n = counts[m].reduce(0, +)
            canvas.fill(Box(x: plot.x, y: Self.plotTop - 30, width: ChartStyle.swatch, height: ChartStyle.swatch), .model(m))
            canvas.drawText("\(model)  (n = \(n))", at: plot.x + ChartStyle.swatch + 6, baseline: Self.plotTop - 19,
                            font: style.bold, align: .left, maxWidth: plot.width - ChartStyle.swatch - 6)
            style.drawValueAxis(on: canvas, plot: plot, maximum: maximum,
                                ticks: stride(from: 0, through: maximum, by: step).map { $0 }, format: { String(Int($0)) })
            let unit = plot.height / maximum
            for (bin, count) in counts[m].enumerated() where count > 0 {
                let height = (Double(count) * unit).rounded()
                let x = plot.x + Double(bin) * Self.binWidth + 1
                canvas.fill(Box(x: x, y: plot.maxY - height, width: Self.binWidth - 2, height: height), .model(m))
                canvas.drawText(String(count), at: x + (Self.binWidth - 2) / 2, baseline: plot.maxY - height - 4,
                                font: style.note, align: .center)
            }
            for tick in stride(from: 0, through: Self.binCount, by: 2) {
                let x = plot.x + Double(tick) * Self.binWidth
                canvas.line(from: (x + 0.5, plot.maxY), to: (x + 0.5, plot.maxY + 4), .axis)
                canvas.drawText(String(format: "%.1f", Double(tick) / Double(Self.binCount)), at: x, baseline: plot.maxY + 18,
                                font: style.tick, color: .axis, align: .center)
            }
            canvas.drawText("confidence", at: plot.x + plot.width / 2, baseline: plot.maxY + 40, font: style.label, align: .center)
        }
        style.drawValueAxisTitle("images", on: canvas, x: 20,
                                 plot: Box(x: 0, y: Self.plotTop, width: 0, height: Self.plotHeight))
    }

    /// A whole-number tick step giving at most about five ticks, and the axis top it rounds up to.
    static func countAxis(_ largest: Int) -> (step: Double, maximum: Double) {
        let step = max(1, Int((Double(largest) / 5).rounded(.up)))
        let top = max(step, Int((Double(largest) / Double(step)).rounded(.up)) * step)
        return (Double(step), Double(top))
    }
}
