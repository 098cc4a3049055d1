import Foundation
import XCTest
@testable import CAMKit
#if canImport(FoundationXML)
import FoundationXML
#endif

/// The panel's layout and text, checked on the decoded PNG: sizes, titles found by rendering the
/// same text alone, and the wrong-prediction marks.
final class PanelRenderingTests: XCTestCase {
    // Solid pictures in colours nothing else in a panel uses, so they can be located.
    static let photoColor: UInt32 = 0x14C81E, colors: [UInt32] = [0xC80ABE, 0x1E1EDC, 0xFAF014]

    static func solid(_ width: Int, _ height: Int, _ color: UInt32) -> RGBImage {
        RGBImage(width: width, height: height,
                 color: (UInt8(color >> 16), UInt8((color >> 8) & 0xFF), UInt8(color & 0xFF)))
    }

    static func panel(wrong: [Bool?] = [nil, nil, nil], secondLabel: String = "Collie") -> Panel {
        Panel(photo: solid(120, 90, photoColor), photoTitle: "photo_01.jpg", trueLabel: "Border Collie", columns: [
            PanelColumn(title: "resnet50", label: "Border Collie", confidence: 0.62, image: solid(160, 120, colors[0]),
                        isWrong: wrong[0], topK: [("Border Collie", 0.62), ("Collie", 0.2)]),
            PanelColumn(title: "cnn_mha", label: secondLabel, confidence: 0.31, image: solid(200, 100, colors[1]),
                        isWrong: wrong[1], topK: [("Collie", 0.31), ("Border Collie", 0.3), ("Kelpie", 0.1)]),
            PanelColumn(title: "hybrid", label: "Kelpie", confidence: 0.47, image: solid(90, 90, colors[2]),
                        isWrong: wrong[2]),
        ], imageHeight: 100)
    }

    // Column widths: max(scaled width, 170) for 133, 133, 200, 100 wide pictures at height 100.
    static let columnWidths = [170, 170, 200, 170], imageWidths = [133, 133, 200, 100], imageTop = 16 + 62

    static func columnSpan(_ i: Int) -> Range<Int> {
        let left = 16 + columnWidths.prefix(i).reduce(0, +) + 20 * i
        return left..<left + columnWidths[i]
    }

    func testSizeAndCommonHeight() throws {
        let raster = try Raster(png: Self.panel().render(as: .png))
        XCTAssertEqual(raster.width, 16 + 710 + 3 * 20 + 16)
        XCTAssertEqual(raster.height, 16 + 62 + 100 + 8 + 3 * 18 + 16)
        for (i, color) in ([Self.photoColor] + Self.colors).enumerated() {
            let box = try XCTUnwrap(raster.bounds(of: color), "picture \(i) not drawn")
            XCTAssertEqual(box.height, 100, "picture \(i) scaled to the common height")
            XCTAssertEqual(box.width, Self.imageWidths[i], "picture \(i) keeps its aspect ratio")
            XCTAssertEqual(box.y, Self.imageTop)
            let span = Self.columnSpan(i)
            XCTAssertEqual(Double(box.x + box.width / 2), Double(span.lowerBound + span.upperBound) / 2, accuracy: 1.5,
                           "picture \(i) centred in its column")
        }
    }

    func testEachColumnCarriesItsTitleAndPrediction() throws {
        let raster = try Raster(png: Self.panel().render(as: .png))
        let bold = try Font.dejaVuSans(size: Panel.titleSize, bold: true), text = try Font.dejaVuSans(size: Panel.textSize)
        let titles = [("photo_01.jpg", "true: Border Collie"), ("resnet50", "Border Collie  62.0 %"),
                      ("cnn_mha", "Collie  31.0 %"), ("hybrid", "Kelpie  47.0 %")]
        for (i, (title, line)) in titles.enumerated() {
            let region = (x: Self.columnSpan(i), y: 0..<Self.imageTop)
            let titleAt = raster.find(try renderedText(title, font: bold), in: region)
            XCTAssertNotNil(titleAt, "column \(i) carries the title '\(title)'")
            let lineColor: RenderColor = i == 0 ? .secondaryText : .text
            let lineAt = raster.find(try renderedText(line, font: text, color: lineColor), in: region)
            XCTAssertNotNil(lineAt, "column \(i) carries '\(line)'")
            if let titleAt, let lineAt { XCTAssertLessThan(titleAt.y, lineAt.y, "title above the prediction") }
        }
        // The matcher is not vacuous: a title that was not drawn is not found.
        XCTAssertNil(raster.find(try renderedText("vgg16", font: bold), in: (x: 0..<raster.width, y: 0..<Self.imageTop)))
    }

    func testWrongMarkOnlyOnWrongColumns() throws {
        let wrong: [Bool?] = [true, false, nil]
        let panel = Self.panel(wrong: wrong)
        let raster = try Raster(png: panel.render(as: .png))
        XCTAssertEqual(panel.wrongNote(), "✗ wrong (true: Border Collie)")
        // The note's start: in a column this narrow the rest is cut with "…".
        let note = try renderedText("✗ wrong", font: try Font.dejaVuSans(size: Panel.textSize), color: .wrong)
        for (i, color) in ([Self.photoColor] + Self.colors).enumerated() {
            let isWrong = i > 0 && wrong[i - 1] == true
            let box = try XCTUnwrap(raster.bounds(of: color))
            let outside = [(box.x - 2, box.y + box.height / 2), (box.x + box.width + 1, box.y + box.height / 2),
                           (box.x + box.width / 2, box.y - 2), (box.x + box.width / 2, box.y + box.height + 1)]
            for (x, y) in outside {
                XCTAssertEqual(raster[x, y] == RenderColor.wrong.packed, isWrong, "frame of column \(i) at (\(x), \(y))")
            }
            let found = raster.find(note, in: (x: Self.columnSpan(i), y: 0..<Self.imageTop))
            XCTAssertEqual(found != nil, isWrong, "wrong note in column \(i)")
        }
    }

    func testLongLabelIsCutToItsColumn() throws {
        let long = "Old English Sheepdog, also known as Bobtail, in a watercolour"
        let raster = try Raster(png: Self.panel(secondLabel: long).render(as: .png))
        for gap in 0..<3 {
            let between = Self.columnSpan(gap).upperBound..<Self.columnSpan(gap + 1).lowerBound
            XCTAssertNil(raster.bounds(of: RenderColor.text.packed, in: (x: between, y: 0..<Self.imageTop)),
                         "no text spills into the gap after column \(gap)")
        }
        let font = try Font.dejaVuSans(size: Panel.textSize)
        let cut = font.fitting(long, width: 120)
        XCTAssertTrue(cut.hasSuffix("…"))
        XCTAssertLessThanOrEqual(font.width(of: cut), 120)
        XCTAssertTrue(long.hasPrefix(String(cut.dropLast())))
        XCTAssertEqual(font.fitting("Collie", width: 120), "Collie")
    }

    func testFontIsDejaVuFromFontconfigAndCoversTheMarks() throws {
        for bold in [false, true] {
            let face = try Typeface.dejaVuSans(bold: bold)
            XCTAssertEqual(face.family, "DejaVu Sans")
            XCTAssertTrue(face.file.contains(bold ? "DejaVuSans-Bold" : "DejaVuSans"), face.file)
            XCTAssertEqual(face.missingCharacters(in: "✗ wrong (true: Border Collie) ≥ 0.5 — 61.2 % … “of k”"), [])
        }
        XCTAssertEqual(try Typeface.dejaVuSans().missingCharacters(in: "柴犬"), ["柴", "犬"])
        XCTAssertThrowsError(try Typeface(family: "No Such Family Anywhere", bold: false)) { error in
            guard case RenderError.fontNotFound(let requested, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(requested, "No Such Family Anywhere")
        }
    }

    func testSVGHasPageSizePicturesAndNoMissingGlyphBoxes() throws {
        var panel = Self.panel(wrong: [true, false, nil])
        panel.columns[2].label = "柴犬 Shiba"  // not in DejaVu Sans: drawn as "?", never as a box
        let svg = try SVGSummary(panel.render(as: .svg))
        XCTAssertEqual(svg.width, "802pt")
        XCTAssertEqual(svg.height, "256pt")
        XCTAssertEqual(svg.images.sorted { $0.0 < $1.0 }.map { "\($0.0)x\($0.1)" }, ["90x90", "120x90", "160x120", "200x100"])
        XCTAssertGreaterThan(svg.glyphUses.count, 50, "text is drawn as glyphs")
        XCTAssertFalse(svg.glyphUses.contains { $0.hasSuffix("-0") }, "glyph 0 of a subset is the missing-glyph box")
    }

    func testPDFAndWritingByExtension() throws {
        let panel = Self.panel()
        let pdf = try panel.render(as: .pdf)
        XCTAssertEqual(String(decoding: pdf.prefix(5), as: UTF8.self), "%PDF-")
        XCTAssertTrue(String(decoding: pdf, as: UTF8.self).contains("/MediaBox [ 0 0 802 256 ]"))

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("camkit-panel-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try panel.write(to: folder.appendingPathComponent("panel.svg"))
        XCTAssertTrue(try String(contentsOf: folder.appendingPathComponent("panel.svg"), encoding: .utf8).hasPrefix("<?xml"))
        XCTAssertThrowsError(try panel.write(to: folder.appendingPathComponent("panel.gif"))) { error in
            XCTAssertEqual(error as? RenderError, .unknownFormat(path: folder.appendingPathComponent("panel.gif").path))
        }
    }

    func testCairoFailureNamesDestinationAndStatus() {
        XCTAssertThrowsError(try Canvas(format: .png, width: 40_000, height: 10, destination: "/tmp/huge.png")) { error in
            guard case let RenderError.cairo(_, status, destination) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(destination, "/tmp/huge.png")
            XCTAssertTrue(status.contains("invalid value"), status)
            XCTAssertTrue("\(error)".contains("/tmp/huge.png"))
        }
    }
}

/// The parts of a Cairo SVG the tests look at: page size, embedded pictures, glyph references.
struct SVGSummary {
    var width = "", height = ""
    var images: [(Int, Int)] = []
    var glyphUses: [String] = []

    init(_ data: Data) throws {
        final class Collector: NSObject, XMLParserDelegate {
            var summary = SVGSummary()
            func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                        attributes: [String: String] = [:]) {
                switch name {
                case "svg": summary.width = attributes["width"] ?? ""; summary.height = attributes["height"] ?? ""
                case "image": summary.images.append((Int(attributes["width"] ?? "") ?? -1, Int(attributes["height"] ?? "") ?? -1))
                case "use":
                    if let href = attributes["xlink:href"], href.hasPrefix("#glyph") { summary.glyphUses.append(href) }
                default: break
                }
            }
        }
        let collector = Collector()
        let parser = XMLParser(data: data)
        parser.delegate = collector
        guard parser.parse() else { throw parser.parserError ?? RenderError.emptyFigure("unparsable SVG") }
        self = collector.summary
    }

    private init() {}
}
