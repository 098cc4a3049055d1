import Foundation
import XCTest
@testable import CAMKit

/// The charts checked on their decoded PNGs: bar heights against the data, wrong marks, legends.
final class ChartRenderingTests: XCTestCase {
    static func record(_ image: String, _ model: String, _ confidence: Double, wrong: Bool = false) -> ConfidenceRecord {
        ConfidenceRecord(imageName: image, modelName: model, predictedLabel: wrong ? "Collie" : "Border Collie",
                         confidence: confidence, trueLabel: "Border Collie")
    }

    func testHistogramBarsAreProportionalToCounts() throws {
        let a = [0.05, 0.31, 0.35, 0.38, 0.72, 0.75], b = [0.55, 0.56, 0.57, 0.58, 0.91]
        let records = a.map { Self.record("a\($0)", "cnn", $0) } + b.map { Self.record("b\($0)", "hybrid", $0) }
        let chart = ConfidenceHistogramChart(records: records)
        let raster = try Raster(png: chart.render(as: .png))
        let size = try chart.pageSize()
        XCTAssertEqual([raster.width, raster.height], [size.width, size.height])
        let bottom = Int(ConfidenceHistogramChart.plotTop + ConfidenceHistogramChart.plotHeight) - 1
        let binWidth = Int(ConfidenceHistogramChart.binWidth)
        for (m, (values, bins)) in [(a, [0, 3, 7]), (b, [5, 9])].enumerated() {
            let found = bars(of: RenderColor.model(m).packed, in: raster, bottom: bottom)
            let counts = ConfidenceHistogramChart.binCounts(values)
            XCTAssertEqual(found.count, bins.count, "model \(m): one bar per non-empty bin")
            guard found.count == bins.count else { continue }
            // Shared count axis: 4 images (the largest bin) span the plot height.
            let unit = ConfidenceHistogramChart.plotHeight / 4
            for (bar, bin) in zip(found, bins) {
                XCTAssertEqual(Double(bar.height), Double(counts[bin]) * unit, accuracy: 1, "model \(m) bin \(bin)")
                XCTAssertEqual(bar.width, binWidth - 2)
                XCTAssertEqual(bar.x - found[0].x, (bin - bins[0]) * binWidth, "bar of bin \(bin) in its place")
            }
        }
        let titleFont = try Font.dejaVuSans(size: 13, bold: true)
        XCTAssertNotNil(raster.find(try renderedText("hybrid  (n = 5)", font: titleFont),
                                    in: (x: raster.width / 2..<raster.width, y: 0..<Int(ConfidenceHistogramChart.plotTop))))
    }

    func testComparisonBarsAndWrongMarks() throws {
        let records = [
            Self.record("one.jpg", "cnn", 0.8), Self.record("one.jpg", "cnn_mha", 0.6),
            Self.record("two.jpg", "cnn", 0.3, wrong: true), Self.record("two.jpg", "cnn_mha", 0.45),
            Self.record("three.jpg", "cnn", 0.55), Self.record("three.jpg", "cnn_mha", 0.2, wrong: true),
        ]
        let chart = ConfidenceComparisonChart(records: records)
        let raster = try Raster(png: chart.render(as: .png))
        let bottom = Int(ConfidenceComparisonChart.plotTop + ConfidenceComparisonChart.plotHeight) - 1
        let confidences = [[0.8, 0.3, 0.55], [0.6, 0.45, 0.2]], wrong = [[false, true, false], [false, false, true]]
        /// Vermillion, or vermillion blended into white by antialiasing; no model colour of this chart.
        func isWrongInk(_ p: UInt32) -> Bool {
            let r = Int(p >> 16), g = Int((p >> 8) & 0xFF), b = Int(p & 0xFF)
            return r > 150 && r - g > 40 && g - b > 20
        }
        for m in 0..<2 {
            let found = bars(of: RenderColor.model(m).packed, in: raster, bottom: bottom)
            XCTAssertEqual(found.count, 3, "model \(m): one bar per image")
            guard found.count == 3 else { continue }
            for (i, bar) in found.enumerated() {
                XCTAssertEqual(Double(bar.height), confidences[m][i] * ConfidenceComparisonChart.plotHeight, accuracy: 1)
                let top = bottom - bar.height + 1
                var marked = false
                for y in max(top - 24, 0)..<top { for x in bar.x..<bar.x + bar.width where isWrongInk(raster[x, y]) { marked = true } }
                XCTAssertEqual(marked, wrong[m][i], "wrong mark above bar \(i) of model \(m)")
            }
        }
        // Groups are ordered like the images, and the models' bars sit side by side in each group.
        let cnn = bars(of: RenderColor.model(0).packed, in: raster, bottom: bottom)
        let mha = bars(of: RenderColor.model(1).packed, in: raster, bottom: bottom)
        if cnn.count == 3 && mha.count == 3 {
            for i in 0..<3 { XCTAssertEqual(mha[i].x - cnn[i].x, Int(ConfidenceComparisonChart.barWidth)) }
        }
        let legendFont = try Font.dejaVuSans(size: 13)
        XCTAssertNotNil(raster.find(try renderedText("cnn_mha", font: legendFont), in: (x: 0..<raster.width, y: 30..<70)),
                        "legend names the models")
    }

    func testStatisticsTableShowsTheNumbers() throws {
        let records = [0.2, 0.5, 0.9, 0.4].enumerated().map { Self.record("i\($0.offset)", "cnn", $0.element) }
            + [0.3, 0.61, 0.47].enumerated().map { Self.record("i\($0.offset)", "hybrid", $0.element) }
        let table = StatisticsTable(records: records)
        let raster = try Raster(png: table.render(as: .png))
        let size = try table.pageSize()
        XCTAssertEqual([raster.width, raster.height], [size.width, size.height])
        let font = try Font.dejaVuSans(size: 13)
        let rowTop = Int(StatisticsTable.top + StatisticsTable.rowHeight), row = Int(StatisticsTable.rowHeight)
        XCTAssertNotNil(raster.find(try renderedText("0.4500", font: font), in: (x: 0..<raster.width, y: rowTop..<rowTop + row)),
                        "cnn's median in the first row")
        XCTAssertNotNil(raster.find(try renderedText("0.4700", font: font), in: (x: 0..<raster.width, y: rowTop + row..<rowTop + 2 * row),
                                    tolerance: 16), "hybrid's median in the second (shaded) row")
        for m in 0..<2 {
            let swatch = try XCTUnwrap(raster.bounds(of: RenderColor.model(m).packed))
            XCTAssertEqual([swatch.width, swatch.height], [12, 12])
            XCTAssertTrue((rowTop + m * row..<rowTop + (m + 1) * row).contains(swatch.y), "swatch of model \(m) in its row")
        }
        let svg = try SVGSummary(table.render(as: .svg))
        XCTAssertEqual(svg.width, "\(size.width)pt")
        XCTAssertFalse(svg.glyphUses.contains { $0.hasSuffix("-0") })
    }

    func testChartsWithoutRecordsSayWhy() {
        XCTAssertThrowsError(try ConfidenceHistogramChart(records: []).render(as: .png)) { error in
            guard case RenderError.emptyFigure = error else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try ConfidenceComparisonChart(records: []).render(as: .pdf))
        XCTAssertThrowsError(try StatisticsTable(records: []).render(as: .svg))
    }
}
