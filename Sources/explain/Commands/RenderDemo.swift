import ArgumentParser
import CAMKit
import Foundation

/// Renders a panel and the three case-study charts from a small made-up result set, so anyone
/// can look at the pictures without models, weights or photos. The photo and overlays are
/// drawn in code (a cartoon dog and heat blobs), never taken from real photos.
struct RenderDemo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render-demo",
        abstract: "Render a demo panel and the case-study charts (PNG, SVG, PDF) from made-up results.")

    @Option(help: "Folder to write into (created if missing).")
    var out = "out/render-demo"

    func run() throws {
        let folder = URL(fileURLWithPath: out, isDirectory: true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let figures: [(String, any Figure)] = [
            ("panel", Self.panel()),
            ("confidence-comparison", ConfidenceComparisonChart(records: Self.records)),
            ("confidence-histogram", ConfidenceHistogramChart(records: Self.records)),
            ("statistics-table", StatisticsTable(records: Self.records)),
        ]
        for (name, figure) in figures {
            for format in RenderFormat.allCases {
                let url = folder.appendingPathComponent("\(name).\(format.fileExtension)")
                try figure.write(to: url)
                print(url.path)
            }
        }
    }

    static let truth = "Border Collie"

    /// Six images × three models; a few predictions are wrong, one image name is long.
    static let records: [ConfidenceRecord] = [
        ("collie_field.jpg", [("Border Collie", 0.58), ("Border Collie", 0.66), ("Border Collie", 0.77)]),
        ("collie_portrait.jpg", [("Border Collie", 0.47), ("Border Collie", 0.52), ("Border Collie", 0.69)]),
        ("collie_watercolour.jpg", [("Australian Shepherd", 0.31), ("Border Collie", 0.44), ("Border Collie", 0.58)]),
        ("collie_from_above.jpg", [("Border Collie", 0.39), ("Collie", 0.36), ("Border Collie", 0.62)]),
        ("collie_running_on_the_beach_at_sunset.jpg", [("Border Collie", 0.63), ("Border Collie", 0.71), ("Border Collie", 0.74)]),
        ("collie_sketch.jpg", [("Shetland Sheepdog", 0.28), ("Shetland Sheepdog", 0.33), ("Border Collie", 0.41)]),
    ].flatMap { image, predictions in
        zip(["cnn", "cnn_mha", "hybrid"], predictions).map { model, prediction in
            ConfidenceRecord(imageName: image, modelName: model, predictedLabel: prediction.0,
                             confidence: prediction.1, trueLabel: truth)
        }
    }

    /// The panel of "collie_watercolour.jpg", where cnn is wrong.
    static func panel() -> Panel {
        let photo = cartoonPhoto(width: 300, height: 225)
        let spots: [(Double, Double)] = [(0.25, 0.75), (0.55, 0.45), (0.62, 0.38)]
        let topK: [[(label: String, probability: Double)]] = [
            [("Australian Shepherd", 0.31), ("Border Collie", 0.27), ("Shetland Sheepdog", 0.12)],
            [("Border Collie", 0.44), ("Collie", 0.21), ("Australian Shepherd", 0.09)],
            [("Border Collie", 0.58), ("Collie", 0.13), ("Old English Sheepdog (Bobtail)", 0.05)],
        ]
        let columns = records.filter { $0.imageName == "collie_watercolour.jpg" }.enumerated().map { i, record in
            PanelColumn(title: record.modelName, label: record.predictedLabel, confidence: record.confidence,
                        image: heatOverlay(photo, center: spots[i]), isWrong: record.correct.map { !$0 }, topK: topK[i])
        }
        return Panel(photo: photo, photoTitle: "collie_watercolour.jpg", trueLabel: truth, columns: columns)
    }

    /// Sky, meadow and a black-and-white dog made of ellipses.
    static func cartoonPhoto(width: Int, height: Int) -> RGBImage {
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        func inEllipse(_ x: Double, _ y: Double, _ cx: Double, _ cy: Double, _ rx: Double, _ ry: Double) -> Bool {
            let dx = (x - cx) / rx, dy = (y - cy) / ry
            return dx * dx + dy * dy <= 1
        }
        for y in 0..<height {
            for x in 0..<width {
                let u = Double(x) / Double(width), v = Double(y) / Double(height)
                var color: (Double, Double, Double) = v < 0.6 ? (150 + 90 * v, 190 + 50 * v, 240) : (70, 150 - 40 * v, 60)
                if inEllipse(u, v, 0.5, 0.62, 0.24, 0.14) { color = (25, 25, 30) }            // body
                if inEllipse(u, v, 0.36, 0.64, 0.07, 0.10) { color = (235, 235, 230) }        // chest
                if inEllipse(u, v, 0.32, 0.42, 0.10, 0.12) { color = (30, 30, 35) }           // head
                if inEllipse(u, v, 0.30, 0.47, 0.035, 0.07) { color = (240, 240, 235) }       // blaze
                if inEllipse(u, v, 0.40, 0.80, 0.03, 0.09) || inEllipse(u, v, 0.62, 0.80, 0.03, 0.09) {
                    color = (30, 30, 35)                                                       // legs
                }
                let i = (y * width + x) * 3
                pixels[i] = UInt8(color.0); pixels[i + 1] = UInt8(color.1); pixels[i + 2] = UInt8(color.2)
            }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// The photo blended half and half with a jet-coloured Gaussian blob at `center` (fractions
    /// of width and height): the look of a CAM overlay, without a model.
    static func heatOverlay(_ photo: RGBImage, center: (Double, Double)) -> RGBImage {
        var pixels = photo.pixels
        for y in 0..<photo.height {
            for x in 0..<photo.width {
                let dx = Double(x) / Double(photo.width) - center.0, dy = Double(y) / Double(photo.height) - center.1
                let heat = exp(-(dx * dx + dy * dy) / 0.03)
                let jet = [1.5 - abs(4 * heat - 3), 1.5 - abs(4 * heat - 2), 1.5 - abs(4 * heat - 1)].map { min(max($0, 0), 1) }
                for c in 0..<3 {
                    let i = (y * photo.width + x) * 3 + c
                    pixels[i] = UInt8((0.5 * Double(pixels[i]) + 0.5 * 255 * jet[c]).rounded())
                }
            }
        }
        return RGBImage(width: photo.width, height: photo.height, pixels: pixels)
    }
}
