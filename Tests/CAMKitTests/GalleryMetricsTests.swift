import Foundation
import XCTest
@testable import CAMKit

/// The gallery's quality measures (`--metrics`): values known by construction on a hand-built
/// model and hand-made maps, boxes mapped through the preprocessing, the labels' `bbox` column,
/// the gallery's numbers against `PerturbationMetrics`' own, and the files a run, a resume and
/// the `explain` executable write.
final class GalleryMetricsTests: XCTestCase {
    /// Logits `(4 · mean of the input, 0)`: keeping half of an image of ones halves the first.
    final class MeanBrightness: Module, Classifier {
        let fc = Linear(3, 2)
        var defaultTargetLayer: String { "fc" }
        var outputSize: Int { 2 }
        override init() {
            super.init()
            register("fc", fc)
            fc.weight.value = Tensor(shape: [2, 3], scalars: [4.0 / 3, 4.0 / 3, 4.0 / 3, 0, 0, 0])
            fc.bias?.value = Tensor(shape: [2], scalars: [0, 0])
        }
        override func forward(_ x: Tensor) -> Tensor {
            fc(globalAveragePool2d(x).reshaped([x.shape[0], 3]))
        }
    }

    /// Photos of 144 × 96 become 108 × 72, cropped to 64 × 64 from (22, 4): 0.75 input pixels
    /// per photo pixel, the crop's left edge at photo x 29⅓.
    static let recipe = Preprocessing(resizeShorterSide: 72, cropWidth: 64, cropHeight: 64, interpolation: .bilinear,
                                      mean: Preprocessing.imagenetMean, std: Preprocessing.imagenetStd)
    static let model = ExplainableModel(name: "brightness", model: MeanBrightness(), labels: ["bright", "dark"], preprocessing: recipe)

    /// An explanation of class `target` of an input of ones with `map` (64 × 64, row-major).
    static func explanation(map: [Float], target: Int = 0) -> Explanation {
        let input = Tensor(repeating: 1, shape: [1, 3, 64, 64])
        let map = Tensor(shape: [64, 64], scalars: map)
        return Explanation(model: "brightness", method: .gradcam, layer: "fc", top: [], targetIndex: target,
                           targetLabel: model.labels[target], versusIndex: nil, input: input, logits: Tensor(shape: [1, 2], scalars: [4, 0]),
                           lowResolutionMap: map, map: map, cropBox: recipe.cropBox(width: 144, height: 96),
                           overlay: RGBImage(width: 144, height: 96, color: (0, 0, 0)), elapsedMilliseconds: 0, waitMilliseconds: 0)
    }

    static func measure(_ explanation: Explanation, box: CAMMetrics.Box? = nil, set: GalleryMetricSet = .all) throws -> GalleryMetrics? {
        try GalleryMetrics.measure(explanation, by: model, photoWidth: 144, photoHeight: 96, box: box, set: set)
    }

    static let leftHalf = (0..<(64 * 64)).map { Float($0 % 64 < 32 ? 1 : 0) }

    func testConfidenceMeasuresKnownByConstruction() throws {
        let sigmoid = { (x: Double) in 1 / (1 + exp(-x)) }
        // Class 0 keeps half its brightness: its probability falls from σ(4) to σ(2).
        let bright = try XCTUnwrap(Self.measure(Self.explanation(map: Self.leftHalf), set: .confidence))
        XCTAssertEqual(try XCTUnwrap(bright.confidenceDrop), 100 * (sigmoid(4) - sigmoid(2)), accuracy: 1e-4)
        XCTAssertEqual(bright.confidenceIncrease, false)
        XCTAssertNil(bright.pointingHit, "confidence computes no pointing game")
        XCTAssertNil(bright.roadCombined, "confidence computes no ROAD")
        // Class 1 rises from σ(−4) to σ(−2): no drop, an increase.
        let dark = try XCTUnwrap(Self.measure(Self.explanation(map: Self.leftHalf, target: 1), set: .confidence))
        XCTAssertEqual(dark.confidenceDrop, 0)
        XCTAssertEqual(dark.confidenceIncrease, true)
        // A map of ones keeps everything: exactly no change.
        let ones = try XCTUnwrap(Self.measure(Self.explanation(map: [Float](repeating: 1, count: 64 * 64)), set: .confidence))
        XCTAssertEqual(ones.confidenceDrop, 0)
        XCTAssertEqual(ones.confidenceIncrease, false)
        XCTAssertNil(try Self.measure(Self.explanation(map: Self.leftHalf), set: .none))
        // ROAD on an image of ones: every imputed pixel is 1 again, so nothing changes. A box
        // around the whole photo holds any peak.
        let whole = CAMMetrics.Box(x0: 0, y0: 0, x1: 143, y1: 95)
        let all = try XCTUnwrap(Self.measure(Self.explanation(map: Self.leftHalf), box: whole))
        XCTAssertEqual(try XCTUnwrap(all.roadCombined), 0, accuracy: 1e-2)
        XCTAssertEqual(all.confidenceDrop, bright.confidenceDrop, "all computes confidence as confidence does")
        XCTAssertEqual(all.pointingHit, true)
        XCTAssertNil(try Self.measure(Self.explanation(map: Self.leftHalf), box: whole, set: .confidence)?.pointingHit,
                     "confidence has no pointing game")
    }

    func testBoxesGoThroughTheResizeAndCrop() {
        func box(_ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int) -> CAMMetrics.Box { CAMMetrics.Box(x0: x0, y0: y0, x1: x1, y1: y1) }
        let recipe = Self.recipe
        // x: [40, 80) · 0.75 = [30, 60) − 22; y: [20, 60) · 0.75 = [15, 45) − 4.
        XCTAssertEqual(recipe.inputBox(for: box(40, 20, 79, 59), width: 144, height: 96), box(8, 11, 37, 40))
        // Across the crop's left edge: clipped to it.
        XCTAssertEqual(recipe.inputBox(for: box(0, 20, 39, 59), width: 144, height: 96), box(0, 11, 7, 40))
        // The overlay's crop box starts at photo x 29: a box ending at 28 was never seen, one
        // reaching 29 covers the input's first column. Likewise on the right and below.
        let crop = recipe.cropBox(width: 144, height: 96)
        XCTAssertEqual(crop.x, 29)
        XCTAssertNil(recipe.inputBox(for: box(0, 0, 28, 95), width: 144, height: 96))
        XCTAssertEqual(recipe.inputBox(for: box(0, 0, 29, 95), width: 144, height: 96), box(0, 0, 0, 63))
        XCTAssertNil(recipe.inputBox(for: box(115, 0, 143, 95), width: 144, height: 96))
        XCTAssertNil(recipe.inputBox(for: box(40, 91, 79, 95), width: 144, height: 96))
        // A box around the whole photo is the whole input.
        XCTAssertEqual(recipe.inputBox(for: box(0, 0, 143, 95), width: 144, height: 96), box(0, 0, 63, 63))
    }

    func testPointingGameOnTheModelInput() throws {
        func peak(x: Int, y: Int) -> Tensor {
            var map = [Float](repeating: 0.2, count: 64 * 64)
            map[y * 64 + x] = 1
            return Tensor(shape: [64, 64], scalars: map)
        }
        func hit(_ map: Tensor, _ box: CAMMetrics.Box) throws -> Bool? {
            try GalleryMetrics.pointingHit(of: map, box: box, preprocessing: Self.recipe, photoWidth: 144, photoHeight: 96)
        }
        let inside = CAMMetrics.Box(x0: 40, y0: 20, x1: 79, y1: 59)  // input (8, 11) … (37, 40)
        XCTAssertEqual(try hit(peak(x: 37, y: 40), inside), true)
        XCTAssertEqual(try hit(peak(x: 8, y: 11), inside), true)
        XCTAssertEqual(try hit(peak(x: 38, y: 40), inside), false)
        XCTAssertEqual(try hit(peak(x: 37, y: 41), inside), false)
        let acrossEdge = CAMMetrics.Box(x0: 0, y0: 20, x1: 39, y1: 59)  // input (0, 11) … (7, 40)
        XCTAssertEqual(try hit(peak(x: 7, y: 20), acrossEdge), true)
        XCTAssertEqual(try hit(peak(x: 8, y: 20), acrossEdge), false)
        // Entirely outside the crop: no result rather than a miss.
        XCTAssertNil(try hit(peak(x: 0, y: 20), CAMMetrics.Box(x0: 0, y0: 0, x1: 28, y1: 95)))
        // A box outside the photo is the labels' mistake, named.
        XCTAssertThrowsError(try hit(peak(x: 0, y: 0), CAMMetrics.Box(x0: 0, y0: 0, x1: 144, y1: 10))) { error in
            XCTAssert("\(error)".contains("bbox 0 0 144 10") && "\(error)".contains("144×96 photo"), "\(error)")
        }
    }

    func testLabelsBoxColumn() throws {
        let file = try LabelsFile(text: "file,breed,bbox\na.png,pug,10 20 30 40\nb.png,pug,\n\"c.png\",pug,\" 1  2 3 4 \"\n", name: "labels.csv")
        XCTAssertEqual(file.truth(forFile: "a.png")?.box, CAMMetrics.Box(x0: 10, y0: 20, x1: 30, y1: 40))
        XCTAssertNil(file.truth(forFile: "b.png")?.box, "an empty cell is no box")
        XCTAssertEqual(file.truth(forFile: "c.png")?.box, CAMMetrics.Box(x0: 1, y0: 2, x1: 3, y1: 4))
        XCTAssertNil(try LabelsFile(text: "file,breed\na.png,pug\n").truth(forFile: "a.png")?.box, "the column is optional")

        let cases: [(String, String)] = [
            ("1 2 3", "is not four integers"), ("1 2 3 4 5", "is not four integers"), ("a b c d", "is not four integers"),
            ("\"1,2,3,4\"", "is not four integers"), ("1.5 2 3 4", "is not four integers"),
            ("99999999999999999999 0 1 1", "is not four integers"),
            ("-1 0 3 3", "negative"), ("5 0 3 9", "x1 3 left of x0 5"), ("0 9 3 2", "y1 2 above y0 9"),
        ]
        for (cell, reason) in cases {
            let text = "file,breed,bbox\nok.png,pug,1 1 2 2\nbad.png,pug,\(cell)\n"
            XCTAssertThrowsError(try LabelsFile(text: text, name: "labels.csv"), cell) { error in
                let value = cell.replacingOccurrences(of: "\"", with: "")
                XCTAssert("\(error)".hasPrefix("labels.csv:3: 'bad.png': bbox '\(value)'"), "\(error)")
                XCTAssert("\(error)".contains(reason), "\(error) should say \(reason)")
            }
        }
    }

    func testResultsWithoutMetricsStillLoad() throws {
        // results.json as galleries wrote it before there were metrics.
        let old = """
            {"version": 1, "models": ["m"], "method": "gradcam", "target": "top1", "images": [{"file": "a.png", "source": "/a.png",
             "folder": "images/a_png", "truth": {"alternatives": [{"name": "pug"}]}, "panelFile": "images/a_png/panel.png",
             "results": [{"model": "m", "predictedIndex": 0, "predictedLabel": "pug", "confidence": 0.5, "top": [],
                          "targetLabel": "pug", "verdict": "correct", "overlayFile": "images/a_png/m.png", "elapsedMilliseconds": 1}]}]}
            """
        let results = try JSONDecoder().decode(GalleryResults.self, from: Data(old.utf8))
        XCTAssertNil(results.metrics)
        XCTAssertNil(results.images[0].results[0].metrics)
        XCTAssertNil(results.images[0].truth?.box)
        XCTAssertEqual(results.metricMeans, [GalleryMetricMeans(model: "m", averageDrop: nil, increaseInConfidence: nil, pointingAccuracy: nil,
                                                                roadCombined: nil, confidenceCount: 0, pointingCount: 0, roadCount: 0)])
        XCTAssertEqual(GalleryCSV.rows(results.images[0]).split(separator: ",", omittingEmptySubsequences: false).count, GalleryCSV.header.count)
    }

    // MARK: runs

    /// A folder with the fixture photo (`photo.png`) and a JPEG, and labels giving the photo a
    /// box around all of it (a hit whatever the map) and the JPEG none.
    func photosAndLabels(in work: URL) throws -> (photos: URL, labels: URL) {
        let photos = work.appendingPathComponent("photos")
        try FileManager.default.createDirectory(at: photos, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: fixtureURL("images/photo.png"), to: photos.appendingPathComponent("photo.png"))
        try FileManager.default.copyItem(at: fixtureURL("images/decode/baseline.jpg"), to: photos.appendingPathComponent("baseline.jpg"))
        let photo = try ImageDecoder().decode(contentsOf: photos.appendingPathComponent("photo.png"))
        let labels = work.appendingPathComponent("labels.csv")
        try "file,breed,bbox\nphoto.png,pug,0 0 \(photo.width - 1) \(photo.height - 1)\nbaseline.jpg,collie,\n"
            .write(to: labels, atomically: true, encoding: .utf8)
        return (photos, labels)
    }

    func testGalleryValuesAreThoseOfPerturbationMetrics() throws {
        let work = try temporaryFolder("gallery-metrics")
        let (folder, labelsURL) = try photosAndLabels(in: work)
        let labels = try LabelsFile(contentsOf: labelsURL)
        let photos = [folder.appendingPathComponent("photo.png")]
        let model = GalleryTests.smallModel(name: "small")

        let plain = GalleryRun(models: [model], output: work.appendingPathComponent("plain"))
        plain.truth = { labels.truth(forFile: $0) }
        XCTAssert(try plain.run(photos).results.images.flatMap(\.results).allSatisfy { $0.metrics == nil }, "no metrics by default")

        let run = GalleryRun(models: [model], output: work.appendingPathComponent("all"))
        run.truth = plain.truth
        run.metrics = .all
        let outcome = try run.run(photos)
        XCTAssertEqual(outcome.results.metrics, "all")
        let measures = PerturbationMetrics(model: model.model)
        for (url, image) in zip(photos, outcome.results.images) {
            let metrics = try XCTUnwrap(image.results.first?.metrics, image.file)
            let explanation = try model.explain(ImageDecoder().decode(contentsOf: url))
            XCTAssertEqual(metrics.pointingHit, true, "the whole photo's box holds any peak")
            // The values of PerturbationMetrics' functions, each on its own passes.
            let maps = Tensor(shape: [1] + explanation.map.shape, scalars: explanation.map.scalars)
            let targets = [TargetScore(explanation.targetIndex)]
            let drop = measures.dropInConfidence(input: explanation.input, maps: maps, targets: targets, softmax: true)[0]
            let increase = measures.increaseInConfidence(input: explanation.input, maps: maps, targets: targets, softmax: true)[0]
            let road = measures.roadCombined(input: explanation.input, maps: maps, targets: targets, softmax: true)[0]
            XCTAssertEqual(try XCTUnwrap(metrics.confidenceDrop), 100 * Double(drop), accuracy: 1e-3, image.file)
            XCTAssertEqual(metrics.confidenceIncrease, increase == 1, image.file)
            XCTAssertEqual(try XCTUnwrap(metrics.roadCombined), 100 * Double(road), accuracy: 1e-3, image.file)
        }
        let means = try XCTUnwrap(outcome.results.metricMeans.first)
        XCTAssertEqual([means.confidenceCount, means.roadCount, means.pointingCount], [1, 1, 1])
        XCTAssertEqual(means.pointingAccuracy, 100)
        XCTAssertEqual(means.averageDrop, outcome.results.images[0].results[0].metrics?.confidenceDrop)
    }

    /// The `explain` executable on the small zoo model: `--metrics all` fills the columns and
    /// `results.json`, prints the means, `--resume` keeps them and refuses other metrics.
    func testExplainGalleryWritesMetricsAndResumeKeepsThem() throws {
        let work = try temporaryFolder("gallery-metrics-cli")
        let zoo = try writeSmallZoo(in: work)
        let (photos, labels) = try photosAndLabels(in: work)
        let out = work.appendingPathComponent("gallery")
        let arguments = ["gallery", photos.path, "--zoo", zoo.path, "--models", "small", "--labels", labels.path, "--jobs", "1",
                         "--out", out.path]

        let first = try runExplain(arguments + ["--metrics", "all"])
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssert(first.stdout.contains("small: average drop "), first.stdout)
        XCTAssert(first.stdout.contains("(2 photo(s)), ROAD combined "), first.stdout)
        XCTAssert(first.stdout.contains("pointing game 100.00% (1 photo(s) with a box)"), first.stdout)

        let rows = try CSV.parse(String(contentsOf: out.appendingPathComponent(GalleryWriter.resultsCSV), encoding: .utf8))
        XCTAssertEqual(rows.first?.fields, GalleryCSV.header)
        let column = Dictionary(uniqueKeysWithValues: GalleryCSV.header.enumerated().map { ($1, $0) })
        let byFile = Dictionary(uniqueKeysWithValues: rows.dropFirst().map { ($0.fields[0], $0.fields) })
        for (file, fields) in byFile {
            let drop = try XCTUnwrap(Double(fields[column["confidence_drop_pct"]!]), file)
            XCTAssert((0...100).contains(drop), "\(file): \(drop)")
            XCTAssert(["true", "false"].contains(fields[column["confidence_increase"]!]), file)
            XCTAssertNotNil(Double(fields[column["road_combined_pct"]!]), file)
        }
        XCTAssertEqual(byFile["photo.png"]?[column["pointing_hit"]!], "true")
        XCTAssertEqual(byFile["baseline.jpg"]?[column["pointing_hit"]!], "", "no box, no pointing result")

        let results = try XCTUnwrap(GalleryWriter.load(from: out))
        XCTAssertEqual(results.metrics, "all")
        XCTAssert(results.images.allSatisfy { $0.results.first?.metrics?.confidenceDrop != nil })
        XCTAssertEqual(try JSONDecoder().decode(GalleryResults.self, from: JSONEncoder().encode(results)), results)

        let again = try runExplain(arguments + ["--metrics", "all", "--resume"])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssert(again.stdout.contains("0 explained now, 2 kept from before"), again.stdout)
        XCTAssertEqual(try GalleryWriter.load(from: out), results, "resume keeps the metrics")

        let other = try runExplain(arguments + ["--metrics", "confidence", "--resume"])
        XCTAssertNotEqual(other.status, 0)
        XCTAssert(other.stderr.contains("metrics all, this run asks for confidence"), other.stderr)
        let bad = try runExplain(arguments + ["--metrics", "some"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssert(bad.stderr.contains("unknown metrics 'some'; use none, confidence, all"), bad.stderr)
    }
}
