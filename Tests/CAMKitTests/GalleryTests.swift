import Foundation
import XCTest
import CAMKit

/// Galleries: label files, label matching, statistics with labels a model cannot know, and
/// whole runs (library and the `explain` executable), with a corrupt file and `--resume`.
final class GalleryTests: XCTestCase {
    // The structure of ../shared/images/manifest.csv, with made-up rows: quoted notes with
    // commas, `a|b` breeds with their WordNet ids by position, empty ids, CRLF line ends.
    static let manifest = "file,breed,imagenet_synset,source_repo,source_path,license,notes\r\n"
        + "collie_a.png,border_collie,n02106166,someone/repo,examples/a.png,MIT,three dogs on grass\r\n"
        + "pup_and_kitten.jfif,golden_retriever|non-dog:cat,n02099601|,someone/repo,examples/b.jfif,MIT,\"puppy, kitten; \"\"cute\"\"\"\r\n"
        + "bulldog.png,english_bulldog|non-dog:cat,|n02123045,other/repo,b.png,unknown,\"dog + cat,\nsecond line\"\r\n"
        + "horse.jpg,non-dog:horse,,other/repo,h.jpg,MIT,no synset\r\n"

    func testManifestFormat() throws {
        let file = try LabelsFile(text: Self.manifest, name: "manifest.csv")
        XCTAssertEqual(file.labels.count, 4)
        XCTAssertEqual(file.truth(forFile: "collie_a.png"), GroundTruth(alternatives: [.init(name: "border_collie", wordNetID: "n02106166")]))
        XCTAssertEqual(file.truth(forFile: "pup_and_kitten.jfif")?.alternatives,
                       [.init(name: "golden_retriever", wordNetID: "n02099601"), .init(name: "non-dog:cat", wordNetID: nil)])
        XCTAssertEqual(file.truth(forFile: "BULLDOG.PNG")?.alternatives,
                       [.init(name: "english_bulldog", wordNetID: nil), .init(name: "non-dog:cat", wordNetID: "n02123045")])
        XCTAssertEqual(file.truth(forFile: "horse.jpg")?.text, "non-dog:horse")
        XCTAssertNil(file.truth(forFile: "unknown.png"))

        let rows = try CSV.parse(Self.manifest)
        XCTAssertEqual(rows[2].fields[6], "puppy, kitten; \"cute\"")
        XCTAssertEqual(rows[3].fields[6], "dog + cat,\nsecond line")
        XCTAssertEqual(rows[4].line, 6, "line numbers count the line break inside the quoted field")
        XCTAssertEqual(try CSV.parse(CSV.line(["a,b", "say \"hi\"", "plain"]))[0].fields, ["a,b", "say \"hi\"", "plain"])

        // Only file and breed are required; column order is free.
        let minimal = try LabelsFile(text: "breed,file\nShih-Tzu,x.jpg\n")
        XCTAssertEqual(minimal.truth(forFile: "x.jpg")?.text, "Shih-Tzu")
    }

    func testLabelsFileErrorsNameFileAndLine() {
        let cases: [(String, String)] = [
            ("file,breed\na.png,collie\nb.png,\"unterminated\n", "labels.csv:3"),
            ("file,breed\na.png,collie,extra\n", "labels.csv:2"),
            ("file,kind\na.png,collie\n", "labels.csv:1"),
            ("file,breed\na.png,collie\na.png,pug\n", "labels.csv:3"),
            ("file,breed\na.png,col\"lie\n", "labels.csv:2"),
        ]
        for (text, place) in cases {
            XCTAssertThrowsError(try LabelsFile(text: text, name: "labels.csv"), text) { error in
                XCTAssert("\(error)".hasPrefix(place), "\(error) should start with \(place)")
            }
        }
    }

    func testLenientMatching() {
        let matcher = LabelMatcher(labels: ["Border collie", "Shih-Tzu", "golden_retriever", "cat"])
        XCTAssertEqual(matcher.classes(matching: GroundTruth(breed: "border_collie")), [0])
        XCTAssertEqual(matcher.classes(matching: GroundTruth(breed: "SHIH TZU")), [1])
        XCTAssertEqual(matcher.classes(matching: GroundTruth(breed: "Golden-Retriever")), [2])
        XCTAssertEqual(matcher.classes(matching: GroundTruth(breed: "golden_retriever|non-dog:cat")), [2, 3])
        XCTAssertEqual(matcher.verdict(predicted: 3, truth: GroundTruth(breed: "pug|non-dog:cat")), .correct)
        XCTAssertEqual(matcher.verdict(predicted: 0, truth: GroundTruth(breed: "golden_retriever")), .wrong)
        XCTAssertEqual(matcher.verdict(predicted: 0, truth: GroundTruth(breed: "non-dog:horse")), .notInClasses)
        XCTAssertEqual(matcher.verdict(predicted: 0, truth: nil), .unlabelled)
        XCTAssertNil(Verdict.notInClasses.isCorrect)
        XCTAssertEqual(Verdict.notInClasses.reason, "not in this model's classes")
    }

    func testWordNetMatching() {
        XCTAssertEqual(ModelZoo.imagenet1kWordNetIDs.count, 1000)
        XCTAssertEqual(ModelZoo.imagenet1kWordNetIDs[232], "n02106166")
        XCTAssertEqual(ModelZoo.imagenet1kLabels[232], "Border collie")
        let imagenet = LabelMatcher.forModel(labels: ModelZoo.imagenet1kLabels)
        XCTAssertNotNil(imagenet.wordNetIDs)
        // By id alone: `english_bulldog` names no class, the cat's id names tabby (281).
        let bulldog = GroundTruth(breed: "english_bulldog|non-dog:cat", wordNetIDs: "|n02123045")
        XCTAssertEqual(imagenet.classes(matching: bulldog), [281])
        XCTAssertEqual(imagenet.verdict(predicted: 281, truth: bulldog), .correct)
        XCTAssertEqual(imagenet.verdict(predicted: 243, truth: bulldog), .wrong)
        XCTAssertEqual(imagenet.classes(matching: GroundTruth(breed: "x", wordNetIDs: "N02106166")), [232])
        XCTAssertEqual(imagenet.classes(matching: GroundTruth(breed: "border_collie")), [232])
        // A dog-breed model's labels carry no ids: the id does not help, the name does.
        let dogs = LabelMatcher.forModel(labels: ModelZoo.dogs19Labels)
        XCTAssertNil(dogs.wordNetIDs)
        XCTAssertEqual(dogs.verdict(predicted: 0, truth: bulldog), .notInClasses)
        XCTAssertEqual(dogs.classes(matching: GroundTruth(breed: "golden retriever", wordNetIDs: "n02099601")), [6])
    }

    func testStatisticsLeaveOutPredictionsThatCannotBeJudged() {
        func result(_ model: String, _ label: String, _ confidence: Double, _ verdict: Verdict) -> GalleryModelResult {
            GalleryModelResult(model: model, predictedIndex: 0, predictedLabel: label, confidence: confidence, top: [],
                               targetLabel: label, verdict: verdict, overlayFile: "o.png", elapsedMilliseconds: 1)
        }
        var results = GalleryResults(models: ["a", "b"], method: "gradcam", layer: nil, target: "top1")
        results.images = [
            GalleryImageResult(file: "1.png", source: "/1.png", folder: "images/1", truth: GroundTruth(breed: "collie"), error: nil,
                               panelFile: "p", results: [result("a", "collie", 0.9, .correct), result("b", "pug", 0.6, .notInClasses)]),
            GalleryImageResult(file: "2.png", source: "/2.png", folder: "images/2", truth: GroundTruth(breed: "horse"), error: nil,
                               panelFile: "p", results: [result("a", "pug", 0.3, .wrong), result("b", "pug", 0.4, .notInClasses)]),
            GalleryImageResult(file: "bad.png", source: "/bad.png", folder: "images/bad", truth: nil, error: "corrupt", panelFile: nil, results: []),
        ]
        let stats = ConfidenceStatistics.perModel(results.confidenceRecords)
        XCTAssertEqual(stats.map(\.model), ["a", "b"])
        XCTAssertEqual(stats[0].accuracy, 0.5)
        XCTAssertEqual(stats[0].labelledCount, 2)
        XCTAssertNil(stats[1].accuracy, "labels that name none of b's classes make no prediction wrong")
        XCTAssertEqual(stats[1].count, 2)
        XCTAssertEqual(stats[1].mean, 0.5, accuracy: 1e-12)
        XCTAssertEqual(results.verdictCounts(model: "b"), [.notInClasses: 2])
        XCTAssertEqual(results.badImages.map(\.file), ["bad.png"])
        XCTAssertTrue(results.confidenceRecords.filter { $0.modelName == "b" }.allSatisfy { $0.correct == nil })
    }

    func testHTMLEscapingAndRelativeLinks() {
        XCTAssertEqual(GalleryPage.escape("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;")
        XCTAssertEqual(GalleryPage.href("images/a b#1/panel.png"), "images/a%20b%231/panel.png")
        XCTAssertEqual(GalleryPage.href("javascript:alert(1)"), "javascript%3Aalert%281%29")
        XCTAssertEqual(GalleryRun.safeName("<script>.png"), "_script_.png")
    }

    // MARK: runs

    static func smallModel(name: String) -> ExplainableModel {
        let config = ConvNeXtV2Config(name: "small", depths: [1, 1, 2, 1], dims: [8, 16, 32, 64], convMLP: false)
        let model = SeedModel(.cnn, backbone: config, numClasses: 5)
        SeededWeights.fill(model)
        let recipe = Preprocessing(resizeShorterSide: 72, cropWidth: 64, cropHeight: 64, interpolation: .bilinear,
                                   mean: Preprocessing.imagenetMean, std: Preprocessing.imagenetStd)
        return ExplainableModel(name: name, model: model, labels: ["Border_collie", "collie", "Shih-Tzu", "pug", "Samoyed"],
                                preprocessing: recipe)
    }

    /// Two fixture pictures, a corrupt PNG, and a text file that is no picture at all.
    func photoFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("gallery-photos-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: fixtureURL("images/photo.png"), to: folder.appendingPathComponent("b photo.png"))
        try FileManager.default.copyItem(at: fixtureURL("images/decode/baseline.jpg"), to: folder.appendingPathComponent("a<baseline>.jpg"))
        try Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + Array("not really a png".utf8)).write(to: folder.appendingPathComponent("corrupt.png"))
        try Data("notes, not a picture".utf8).write(to: folder.appendingPathComponent("notes.txt"))
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        return folder
    }

    func outputFolder() -> URL {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("gallery-out-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: out) }
        return out
    }

    /// Every `src` and `href` of the page, which must all be relative paths of existing files.
    static func checkLinks(_ out: URL, file: StaticString = #filePath, line: UInt = #line) throws -> [String] {
        let html = try String(contentsOf: out.appendingPathComponent("index.html"), encoding: .utf8)
        XCTAssertFalse(html.contains("http:") || html.contains("https:") || html.contains("<script"), "the page must not leave the disk", file: file, line: line)
        let regex = try NSRegularExpression(pattern: "(?:src|href)=\"([^\"]*)\"")
        let links = regex.matches(in: html, range: NSRange(html.startIndex..., in: html)).map {
            String(html[Range($0.range(at: 1), in: html)!]).replacingOccurrences(of: "&amp;", with: "&")
        }
        for link in links {
            XCTAssertFalse(link.hasPrefix("/") || link.contains("://"), "\(link) is not relative", file: file, line: line)
            let path = link.removingPercentEncoding ?? link
            XCTAssert(FileManager.default.fileExists(atPath: out.appendingPathComponent(path).path), "\(link) does not exist", file: file, line: line)
        }
        return links
    }

    func testGalleryRunReportsBadFilesWritesEverythingAndResumes() throws {
        let folder = try photoFolder()
        let photos = try GalleryInputs.expand([folder.path])
        XCTAssertEqual(photos.map(\.lastPathComponent), ["a<baseline>.jpg", "b photo.png", "corrupt.png"], "notes.txt is skipped")
        let out = outputFolder()
        let labels = try LabelsFile(text: "file,breed\n\"b photo.png\",border_collie\na<baseline>.jpg,non-dog:horse\n")

        let run = GalleryRun(models: [Self.smallModel(name: "small-a"), Self.smallModel(name: "small/b")], output: out)
        run.truth = { labels.truth(forFile: $0) }
        var progress: [Int] = []
        run.progress = { progress.append($0.done) }
        let outcome = try run.run(photos)
        XCTAssertEqual(progress, [1, 2, 3])
        XCTAssertEqual(outcome.explained, 3)
        XCTAssertEqual(outcome.bad.map(\.file), ["corrupt.png"])
        XCTAssert(outcome.bad[0].error!.contains("corrupt.png"), outcome.bad[0].error!)
        let good = outcome.results.images.filter { !$0.isBad }
        XCTAssertEqual(good.count, 2)
        XCTAssert(good.allSatisfy { $0.results.map(\.model) == ["small-a", "small/b"] })
        XCTAssertEqual(good[0].results[0].verdict, .notInClasses)
        XCTAssert([.correct, .wrong].contains(good[1].results[0].verdict))

        let links = try Self.checkLinks(out)
        for name in ["results.csv", "results.json", "confidence-comparison.png", "confidence-histogram.png", "statistics-table.png"] {
            XCTAssert(links.contains(name), "index.html links \(name)")
        }
        for image in good {
            XCTAssert(links.contains(GalleryPage.href(image.panelFile!).replacingOccurrences(of: "&amp;", with: "&")))
            XCTAssertEqual(image.results.count, 2)
        }
        let html = try String(contentsOf: out.appendingPathComponent("index.html"), encoding: .utf8)
        XCTAssert(html.contains("a&lt;baseline&gt;.jpg") && !html.contains("a<baseline>"), "file names are escaped")
        XCTAssert(html.contains("not in this model&#39;s classes"))

        let csv = try CSV.parse(String(contentsOf: out.appendingPathComponent("results.csv"), encoding: .utf8))
        XCTAssertEqual(csv.count, 1 + 2 * 2 + 1)
        XCTAssertEqual(csv[0].fields, GalleryCSV.header)
        XCTAssertEqual(csv.last?.fields.first, "corrupt.png")
        XCTAssert(csv.last!.fields.last!.contains("corrupt.png"))
        let json = try XCTUnwrap(GalleryWriter.load(from: out))
        XCTAssertEqual(json, outcome.results)

        // Resume: the good photos are kept (files untouched), only the bad one is tried again.
        let panel = out.appendingPathComponent(good[0].panelFile!)
        let before = try FileManager.default.attributesOfItem(atPath: panel.path)[.modificationDate] as! Date
        let again = GalleryRun(models: [Self.smallModel(name: "small-a"), Self.smallModel(name: "small/b")], output: out)
        again.truth = run.truth
        let resumed = try again.run(photos, resume: true)
        XCTAssertEqual(resumed.reused, 2)
        XCTAssertEqual(resumed.explained, 1)
        XCTAssertEqual(resumed.results, outcome.results)
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: panel.path)[.modificationDate] as? Date, before)

        // A gallery whose results.json holds only the first photo (an earlier version's killed
        // run, or a snapshot without its journal): resume does the rest.
        var partial = outcome.results
        partial.images = Array(partial.images.prefix(1))
        try JSONEncoder().encode(partial).write(to: out.appendingPathComponent(GalleryWriter.resultsJSON))
        let third = try GalleryRun(models: [Self.smallModel(name: "small-a"), Self.smallModel(name: "small/b")], output: out).run(photos, resume: true)
        XCTAssertEqual(third.reused, 1)
        XCTAssertEqual(third.explained, 2)

        // Other settings cannot be mixed into the same gallery.
        let other = GalleryRun(models: [Self.smallModel(name: "small-a")], options: ExplainOptions(method: .layercam), output: out)
        XCTAssertThrowsError(try other.run(photos, resume: true)) { XCTAssert("\($0)".contains("method"), "\($0)") }
    }

    /// The real `explain` executable with the built-in models (skipped without their weights).
    func testExplainGalleryExecutable() throws {
        let missing = ModelZoo.entries.filter { !$0.weightsArePresent }
        try XCTSkipIf(!missing.isEmpty, "weights of \(missing.map(\.name).joined(separator: ", ")) are missing; run `\(ModelZoo.fetchCommand)`")
        _ = try XCTUnwrap(explainExecutable(), "no explain executable next to the test bundle; run `swift build` first")
        let folder = try photoFolder()
        let out = outputFolder()

        func explain(_ arguments: [String]) throws -> ExplainRun { try runExplain(arguments) }

        let first = try explain(["gallery", folder.path, "--models", "all", "--label", "Border_collie", "--out", out.path])
        XCTAssertEqual(first.status, 1, "a corrupt file makes the exit status 1: \(first.stderr)")
        XCTAssert(first.stderr.contains("corrupt.png"), first.stderr)
        XCTAssertFalse(first.stderr.contains("\r"), "no progress bar when stderr is not a terminal")
        XCTAssert(first.stdout.contains("3 explained now"), first.stdout)
        _ = try Self.checkLinks(out)
        let results = try XCTUnwrap(GalleryWriter.load(from: out))
        XCTAssertEqual(results.models, ModelZoo.entries.map(\.name))
        XCTAssertEqual(results.images.filter { !$0.isBad }.flatMap(\.results).count, 2 * ModelZoo.entries.count)
        XCTAssertEqual(results.badImages.map(\.file), ["corrupt.png"])
        let csv = try CSV.parse(String(contentsOf: out.appendingPathComponent("results.csv"), encoding: .utf8))
        XCTAssertEqual(csv.count, 1 + 2 * ModelZoo.entries.count + 1)

        let second = try explain(["gallery", folder.path, "--label", "Border_collie", "--out", out.path, "--resume"])
        XCTAssertEqual(second.status, 1)
        XCTAssert(second.stdout.contains("1 explained now, 2 kept from before"), second.stdout)
    }
}
