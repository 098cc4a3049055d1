import Foundation
import XCTest
import CAMKit

/// User models from a zoo file, next to the built-in zoo.
final class ZooFileTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    func write(_ json: String, labels: [String] = ["a", "b", "c"]) throws -> URL {
        try labels.joined(separator: "\n").write(to: folder.appendingPathComponent("labels.txt"), atomically: true, encoding: .utf8)
        let url = folder.appendingPathComponent("zoo.json")
        try json.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    func testSeedModelEntryIsListedAndNamesItsMissingWeights() throws {
        let url = try write(#"{"models": [{"name": "mine", "architecture": "seed-hybrid", "backbone": "convnextv2_atto", "weights": "w/hybrid.pth", "labels": "labels.txt"}]}"#)
        let catalog = try ModelCatalog(zooFile: ZooFile(contentsOf: url))
        let mine = try catalog.descriptor(named: "mine")
        XCTAssertEqual(mine.classes, 3)
        XCTAssertEqual(mine.defaultLayer, "backbone.stages.3")
        XCTAssertFalse(mine.weightsArePresent)
        XCTAssert(mine.fetchHint.contains("w/hybrid.pth"), mine.fetchHint)
        let selection = try catalog.select("mine,efficientnet-lite0")
        XCTAssertEqual(selection.available.count + selection.missing.count, 2)
        XCTAssert(selection.missing.contains { $0.name == "mine" })
        XCTAssertThrowsError(try catalog.select("nope")) { XCTAssert("\($0)".contains("efficientnet-lite0")) }
    }

    func testEntryLoadsRealWeightsWhenPresent() throws {
        let weights = ModelZoo.efficientNetLite0.weightsURL
        try XCTSkipUnless(FileManager.default.fileExists(atPath: weights.path), "run `make models` for this test")
        let url = try write(#"{"models": [{"name": "lite", "architecture": "efficientnet-lite0", "weights": "\#(weights.path)", "labels": "labels.txt"}]}"#,
                            labels: ModelZoo.imagenet1kLabels)
        let model = try ZooFile(contentsOf: url).descriptors[0].load()
        XCTAssertEqual(model.labels.count, 1000)
        XCTAssertEqual(model.defaultLayer, "_head_act")
    }

    /// Sizes that used to pass the zoo file and trap when the first photo was resized.
    static func customPreprocessing(resize: String, crop: Int) -> String {
        #"{"models": [{"name": "x", "architecture": "seed-cnn", "weights": "w", "labels": "labels.txt", "preprocessing": "#
            + #"{"resize_shorter_side": \#(resize), "crop": \#(crop), "interpolation": "bilinear", "mean": [0, 0, 0], "std": [1, 1, 1]}}]}"#
    }

    func testBadZooFilesNameTheProblem() throws {
        let cases: [(String, String)] = [
            (#"{"models": [{"name": "x"}]}"#, "architecture"),
            (#"not json"#, "not a zoo file"),
            (#"{"models": [{"name": "x", "architecture": "resnet", "weights": "w", "labels": "labels.txt"}]}"#, "unknown architecture 'resnet'"),
            (#"{"models": [{"name": "x", "architecture": "seed-cnn", "backbone": "convnextv2_giant", "weights": "w", "labels": "labels.txt"}]}"#, "convnextv2_giant"),
            (#"{"models": [{"name": "x", "architecture": "seed-cnn", "weights": "w", "labels": "missing.txt"}]}"#, "missing.txt"),
            (#"{"models": [{"name": "efficientnet-lite0", "architecture": "seed-cnn", "weights": "w", "labels": "labels.txt"}]}"#, "built-in"),
            (Self.customPreprocessing(resize: "0", crop: 32), "resize_shorter_side is 0"),
            (Self.customPreprocessing(resize: "-4", crop: 32), "resize_shorter_side is -4"),
            (Self.customPreprocessing(resize: "null", crop: 4_000_000_000), "crop is 4000000000"),
        ]
        for (json, expected) in cases {
            let url = try write(json)
            XCTAssertThrowsError(try ModelCatalog(zooFile: ZooFile(contentsOf: url))) { error in
                XCTAssert("\(error)".contains(expected) && "\(error)".contains("zoo.json"), "\(error) should mention \(expected)")
            }
        }
    }
}
