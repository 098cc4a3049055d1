import XCTest
import CAMKit

/// The `explain` executable itself, run as a user runs it, on the fixture pictures with a
/// small seeded model described by a zoo file.
final class CLITests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/images")
    static let labels = ["Border_collie", "collie", "Shih-Tzu", "pug", "Samoyed"]
    var folder: URL!

    override func setUpWithError() throws {
        folder = try temporaryFolder("camkit-cli")
    }

    var photo: String { Self.fixtures.appendingPathComponent("photo.png").path }
    var jpeg: String { Self.fixtures.appendingPathComponent("decode/baseline.jpg").path }

    /// The zoo file of `writeSmallZoo`, in this test's folder.
    func writeZoo(weights: Bool = true) throws -> URL {
        try writeSmallZoo(in: folder, weights: weights)
    }

    func explain(_ arguments: [String]) throws -> ExplainRun {
        try runExplain(arguments, in: folder)
    }

    func jsonLines(_ text: String) throws -> [[String: Any]] {
        try text.split(separator: "\n").map {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any], "not a JSON object: \($0)")
        }
    }

    func assertClose(_ a: Tensor, _ b: Tensor, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.shape, b.shape, what, file: file, line: line)
        let worst = zip(a.scalars, b.scalars).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst, 1e-5, "\(what): max difference \(worst)", file: file, line: line)
    }

    func testJSONLinesDumpsAndFilesMatchTheLibrary() throws {
        let zoo = try writeZoo()
        let run = try explain([photo, jpeg, "--zoo", zoo.path, "--models", "small", "--top-k", "3", "--json",
                               "--out", "out", "--dump", "dump"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let records = try jsonLines(run.stdout)
        XCTAssertEqual(records.count, 2)
        XCTAssertEqual(records.map { $0["image"] as? String }, [photo, jpeg])

        let model = try ModelCatalog(zooFile: ZooFile(contentsOf: zoo)).descriptor(named: "small").load()
        for record in records {
            XCTAssertEqual(record["model"] as? String, "small")
            XCTAssertEqual(record["method"] as? String, "gradcam")
            XCTAssertEqual(record["layer"] as? String, "backbone.stages.3")
            XCTAssert(record["versus_index"] is NSNull)
            let top = try XCTUnwrap(record["top"] as? [[String: Any]])
            XCTAssertEqual(top.count, 3)
            for entry in top {
                XCTAssertNotNil(entry["index"] as? Int); XCTAssertNotNil(entry["label"] as? String)
                XCTAssertNotNil(entry["probability"] as? Double)
            }
            XCTAssertEqual(record["target_index"] as? Int, top[0]["index"] as? Int)
            XCTAssertEqual(record["target_label"] as? String, top[0]["label"] as? String)
            XCTAssertEqual(record["confidence"] as? Double, top[0]["probability"] as? Double)
            XCTAssertGreaterThan(try XCTUnwrap(record["elapsed_ms"] as? Double), 0)

            // The same photo through the library gives the same numbers.
            let photo = try ImageDecoder().decode(contentsOf: URL(fileURLWithPath: record["image"] as! String))
            let expected = try model.explain(photo, options: ExplainOptions(topK: 3))
            XCTAssertEqual(top.map { $0["label"] as? String }, expected.top.map(\.label))
            let dump = try XCTUnwrap(record["dump"] as? [String: String])
            let input = try NumpyFile.read(contentsOf: URL(fileURLWithPath: try XCTUnwrap(dump["input"])))
            let logits = try NumpyFile.read(contentsOf: URL(fileURLWithPath: try XCTUnwrap(dump["logits"])))
            let cam = try NumpyFile.read(contentsOf: URL(fileURLWithPath: try XCTUnwrap(dump["cam"])))
            XCTAssertEqual(input.shape, [1, 3, 64, 64])
            XCTAssertEqual(logits.shape, [1, 5])
            XCTAssertEqual(cam.shape, [2, 2])
            assertClose(input, expected.input, "input")
            assertClose(logits, expected.logits, "logits")
            assertClose(cam, expected.lowResolutionMap, "cam")

            // The overlay is a lossless PNG of the library's overlay; the panel a PNG of the panel's size.
            let files = try XCTUnwrap(record["files"] as? [String: String])
            let overlayURL = URL(fileURLWithPath: try XCTUnwrap(files["overlay"]))
            XCTAssertEqual(overlayURL.lastPathComponent, URL(fileURLWithPath: record["image"] as! String)
                .deletingPathExtension().lastPathComponent + ".small.png")
            XCTAssertEqual(try ImageDecoder().decode(contentsOf: overlayURL), expected.overlay)
            let panelURL = URL(fileURLWithPath: try XCTUnwrap(files["panel"]))
            XCTAssert(panelURL.lastPathComponent.hasSuffix(".panel.png"))
            let panel = try ImageDecoder().decode(contentsOf: panelURL)
            let size = try Panel(photo: photo, columns: [PanelColumn(title: "small", label: expected.top[0].label,
                confidence: expected.confidence, image: expected.overlay,
                topK: expected.top.map { ($0.label, $0.probability) })]).pageSize()
            XCTAssertEqual([panel.width, panel.height], [size.width, size.height])
        }
    }

    func testSVGAndPDFPanelsContrastAndTextSummary() throws {
        let zoo = try writeZoo()
        let svg = try explain([photo, "--zoo", zoo.path, "--models", "small", "--format", "svg", "--out", "svg",
                               "--target", "Border_collie-vs-collie", "--json"])
        XCTAssertEqual(svg.status, 0, svg.stderr)
        let record = try XCTUnwrap(try jsonLines(svg.stdout).first)
        XCTAssertEqual(record["target_index"] as? Int, 0)
        XCTAssertEqual(record["versus_index"] as? Int, 1)
        let svgText = try String(contentsOf: folder.appendingPathComponent("svg/photo.panel.svg"), encoding: .utf8)
        XCTAssert(svgText.contains("<svg"))

        let pdf = try explain([photo, "--zoo", zoo.path, "--models", "small", "--format", "pdf", "--out", "pdf",
                               "--method", "hirescam"])
        XCTAssertEqual(pdf.status, 0, pdf.stderr)
        let pdfData = try Data(contentsOf: folder.appendingPathComponent("pdf/photo.panel.pdf"))
        XCTAssertEqual(String(decoding: pdfData.prefix(5), as: UTF8.self), "%PDF-")
        XCTAssert(FileManager.default.fileExists(atPath: folder.appendingPathComponent("pdf/photo.small.png").path))
        XCTAssert(pdf.stdout.contains("small"), pdf.stdout)   // the text summary when --json is absent
    }

    func testCorruptImageIsReportedAndTheOthersAreStillWritten() throws {
        let zoo = try writeZoo()
        try Data("not a picture".utf8).write(to: folder.appendingPathComponent("broken.jpg"))
        let run = try explain([photo, "broken.jpg", jpeg, "--zoo", zoo.path, "--models", "small", "--out", "out"])
        XCTAssertEqual(run.status, 1)
        XCTAssert(run.stderr.contains("broken.jpg") && run.stderr.contains("not a JPEG or PNG"), run.stderr)
        for name in ["photo.panel.png", "photo.small.png", "baseline.panel.png", "baseline.small.png"] {
            XCTAssert(FileManager.default.fileExists(atPath: folder.appendingPathComponent("out/\(name)").path), name)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("out/broken.panel.png").path))
    }

    /// `--max-megapixels` refuses a photo from its header; the others are still explained.
    func testPhotoOverThePixelLimitIsReportedAndSkipped() throws {
        let zoo = try writeZoo()
        let run = try explain([photo, jpeg, "--zoo", zoo.path, "--models", "small", "--out", "out", "--max-megapixels", "0.002"])
        XCTAssertEqual(run.status, 1)
        XCTAssert(run.stderr.contains("photo.png is 80×60 = 0.0048 megapixels, over the limit of 0.002 megapixels"), run.stderr)
        XCTAssert(FileManager.default.fileExists(atPath: folder.appendingPathComponent("out/baseline.panel.png").path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("out/photo.panel.png").path))
        let refused = try explain([photo, "--zoo", zoo.path, "--max-megapixels", "0"])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssert(refused.stderr.contains("--max-megapixels must be in (0, 10000], got 0.0"), refused.stderr)
    }

    func testBadArgumentsGiveAClearMessageAndFail() throws {
        let zoo = try writeZoo()
        let cases: [([String], String)] = [
            (["--models", "nope"], "unknown model 'nope'"),
            (["--models", "small", "--target", "Colie"], "'Colie'"),
            (["--models", "small", "--target", "7"], "out of range"),
            (["--models", "small", "--method", "gradcam+"], "unknown method 'gradcam+'"),
            (["--models", "small", "--layer", "backbone.stages.9"], "model small has no layer 'backbone.stages.9'"),
            (["--models", "small", "--format", "gif"], "unknown format 'gif'"),
            (["--models", "small", "--top-k", "0"], "--top-k"),
        ]
        let sameStem = try explain([photo, Self.fixtures.appendingPathComponent("decode/photo.jpg").path, "--zoo", zoo.path])
        XCTAssertNotEqual(sameStem.status, 0)
        XCTAssert(sameStem.stderr.contains("would write the same files"), sameStem.stderr)
        for (arguments, message) in cases {
            let run = try explain([photo, "--zoo", zoo.path, "--out", "out"] + arguments)
            XCTAssertNotEqual(run.status, 0, "\(arguments)")
            XCTAssert(run.stderr.contains(message), "\(arguments): \(run.stderr)")
        }
    }

    /// A model whose checkpoint is unreadable is named and skipped; the others are explained,
    /// by `images` and by `gallery`, and the exit status is 1.
    func testModelThatFailsToLoadIsSkippedAndTheOthersExplained() throws {
        let zoo = try writeZoo()
        try Data("not weights".utf8).write(to: folder.appendingPathComponent("broken.safetensors"))
        var file = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: zoo)) as? [String: Any])
        var entries = try XCTUnwrap(file["models"] as? [[String: Any]])
        var broken = entries[0]
        broken["name"] = "broken"
        broken["weights"] = "broken.safetensors"
        entries.append(broken)
        file["models"] = entries
        try JSONSerialization.data(withJSONObject: file).write(to: zoo)

        let run = try explain([photo, "--zoo", zoo.path, "--models", "small,broken", "--out", "out"])
        XCTAssertEqual(run.status, 1, run.stderr)
        XCTAssert(run.stderr.contains("broken: cannot be loaded, skipped") && run.stderr.contains("broken.safetensors"), run.stderr)
        XCTAssert(FileManager.default.fileExists(atPath: folder.appendingPathComponent("out/photo.small.png").path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("out/photo.broken.png").path))

        let gallery = try explain(["gallery", photo, "--zoo", zoo.path, "--models", "small,broken", "--out", "gallery"])
        XCTAssertEqual(gallery.status, 1, gallery.stderr)
        XCTAssert(gallery.stderr.contains("broken: cannot be loaded, skipped"), gallery.stderr)
        let csv = try String(contentsOf: folder.appendingPathComponent("gallery/results.csv"), encoding: .utf8)
        XCTAssert(csv.contains("small") && !csv.contains("broken"), csv)

        let none = try explain([photo, "--zoo", zoo.path, "--models", "broken", "--out", "out"])
        XCTAssertEqual(none.status, 1)
        XCTAssert(none.stderr.contains("none of the selected models could be loaded"), none.stderr)
    }

    func testMissingWeightsAreNamedWithTheirFetchHint() throws {
        let zoo = try writeZoo(weights: false)
        let run = try explain([photo, "--zoo", zoo.path, "--models", "small", "--out", "out"])
        XCTAssertNotEqual(run.status, 0)
        XCTAssert(run.stderr.contains("small") && run.stderr.contains("put the weights at"), run.stderr)
        XCTAssert(run.stderr.contains("no model to run"), run.stderr)
        let models = try explain(["models", "--zoo", zoo.path])
        XCTAssertEqual(models.status, 0, models.stderr)
        XCTAssert(models.stdout.contains("small") && models.stdout.contains("missing: put the weights at"), models.stdout)
    }

    func testModelsAndLayersCommands() throws {
        let zoo = try writeZoo()
        let models = try explain(["models", "--zoo", zoo.path])
        XCTAssertEqual(models.status, 0, models.stderr)
        for expected in ["efficientnet-lite0", "mobilenetv2-dogs19", "small", "seed-cnn on depths [1, 1, 2, 1]", "licence        test",
                         "default layer  backbone.stages.3"] {
            XCTAssert(models.stdout.contains(expected), "\(expected) in \(models.stdout)")
        }
        let layers = try explain(["layers", "small", "--zoo", zoo.path])
        XCTAssertEqual(layers.status, 0, layers.stderr)
        let line = try XCTUnwrap(layers.stdout.split(separator: "\n").first { $0.hasPrefix("backbone.stages.3 ") })
        XCTAssert(line.contains("[1, 64, 2, 2]") && line.contains("default"), String(line))
        // Built-in models list their layers without weights.
        let builtIn = try explain(["layers", "mobilenetv2-dogs19"])
        XCTAssertEqual(builtIn.status, 0, builtIn.stderr)
        XCTAssert(builtIn.stdout.contains("backbone.out_relu") && builtIn.stdout.contains("[1, 1280, 5, 5]"), builtIn.stdout)
        let unknown = try explain(["layers", "nope"])
        XCTAssertNotEqual(unknown.status, 0)
        XCTAssert(unknown.stderr.contains("unknown model 'nope'"), unknown.stderr)
    }

    func testAllBuiltInModelsWhenTheirWeightsArePresent() throws {
        try XCTSkipUnless(ModelZoo.entries.allSatisfy(\.weightsArePresent),
                          "the built-in weights are absent; run `\(ModelZoo.fetchCommand)`")
        let run = try explain([photo, "--models", "all", "--json", "--out", "out", "--top-k", "2"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let records = try jsonLines(run.stdout)
        XCTAssertEqual(records.compactMap { $0["model"] as? String }, ModelZoo.entries.map(\.name))
        let panel = try ImageDecoder().decode(contentsOf: folder.appendingPathComponent("out/photo.panel.png"))
        XCTAssertGreaterThan(panel.width, panel.height)
    }
}

/// The `.npy` writer and reader, and the zoo file's custom backbone.
final class NumpyFileTests: XCTestCase {
    func testRoundTripAndHeaderLayout() throws {
        for shape in [[5], [2, 3], [1, 3, 4, 4], [0]] {
            let tensor = Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { Float($0) * 0.5 - 1 })
            let data = NumpyFile.data(tensor)
            XCTAssertEqual((data.count - tensor.count * 4) % 64, 0, "\(shape)")
            XCTAssertEqual(Array(data.prefix(8)), [0x93] + Array("NUMPY".utf8) + [1, 0])
            let header = String(decoding: data.prefix(data.count - tensor.count * 4), as: UTF8.self)
            XCTAssert(header.hasSuffix("\n") && header.contains("'descr': '<f4'"), header)
            if shape == [5] { XCTAssert(header.contains("'shape': (5,)"), header) }
            let back = try NumpyFile.read(data: data)
            XCTAssertEqual(back.shape, shape)
            XCTAssertEqual(back.scalars, tensor.scalars)
        }
        XCTAssertThrowsError(try NumpyFile.read(data: Data("hello".utf8)))
    }

    func testZooFileCustomBackboneMustHaveFourStages() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("camkit-zoo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try "a\nb".write(to: folder.appendingPathComponent("labels.txt"), atomically: true, encoding: .utf8)
        let url = folder.appendingPathComponent("zoo.json")
        try """
            {"models": [{"name": "m", "architecture": "convnextv2", "backbone": {"depths": [1, 1, 1], "dims": [8, 16, 32]},
                         "weights": "m.safetensors", "labels": "labels.txt"}]}
            """.write(to: url, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ZooFile(contentsOf: url)) { XCTAssert("\($0)".contains("four"), "\($0)") }
    }
}
