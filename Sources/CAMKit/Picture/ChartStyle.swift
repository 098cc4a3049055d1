import Foundation

/// What the charts share: fonts, the value axis with its grid, and the model legend, so the
/// three case-study figures look like one set.
struct ChartStyle {
    let title: Font, label: Font, tick: Font, note: Font, bold: Font

    /// Sizes chosen to stay readable when a figure is shown at its own size.
    static func load() throws -> ChartStyle {
        ChartStyle(title: try .dejaVuSans(size: 17, bold: true), label: try .dejaVuSans(size: 13),
                   tick: try .dejaVuSans(size: 12), note: try .dejaVuSans(size: 11),
                   bold: try .dejaVuSans(size: 13, bold: true))
    }

    /// Grid lines, tick labels and the axis line of a vertical value axis from 0 to `maximum`.
    func drawValueAxis(on canvas: Canvas, plot: Box, maximum: Double, ticks: [Double], format: (Double) -> String) {
        for tick in ticks {
            let y = (plot.maxY - tick / maximum * plot.height).rounded() + 0.5
            canvas.line(from: (plot.x, y), to: (plot.maxX, y), .grid)
            canvas.drawText(format(tick), at: plot.x - 6, baseline: y + 4, font: self.tick, color: .axis, align: .right)
        }
        canvas.line(from: (plot.x - 0.5, plot.y), to: (plot.x - 0.5, plot.maxY), .axis)
        canvas.line(from: (plot.x, plot.maxY + 0.5), to: (plot.maxX, plot.maxY + 0.5), .axis)
    }

    /// The axis title, turned to read upward, centred beside the plot.
    func drawValueAxisTitle(_ text: String, on canvas: Canvas, x: Double, plot: Box) {
        canvas.drawRotatedText(text, anchor: (x, plot.y + plot.height / 2), angle: -Double.pi / 2, font: label,
                               color: .text, align: .center)
    }

    static let swatch = 12.0, legendSpacing = 18.0

    func legendWidth(_ models: [String]) -> Double {
        models.map { ChartStyle.swatch + 6 + label.width(of: $0) }.reduce(0, +)
            + ChartStyle.legendSpacing * Double(max(models.count - 1, 0))
    }

    /// One swatch and name per model in a row ending at `right`.
    func drawLegend(_ models: [String], on canvas: Canvas, right: Double, baseline: Double) {
        var x = right - legendWidth(models)
        for (index, model) in models.enumerated() {
            canvas.fill(Box(x: x.rounded(), y: baseline - 11, width: ChartStyle.swatch, height: ChartStyle.swatch), .model(index))
            x += ChartStyle.swatch + 6
            canvas.drawText(model, x: x, baseline: baseline, font: label, color: .text)
            x += label.width(of: model) + ChartStyle.legendSpacing
        }
    }
}
