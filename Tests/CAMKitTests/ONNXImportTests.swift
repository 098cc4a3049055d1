import Foundation
import XCTest
@testable import CAMKit

/// Models that parse but cannot run are refused before anything runs, each with an error that
/// names the file, the node and the reason (`scripts/reference/make_onnx_invalid_fixtures.py`);
/// and a valid model works through the zoo file and the command line.
final class ONNXImportTests: XCTestCase {
    func url(_ name: String) -> URL { fixtureURL("onnx-invalid/\(name)") }

    func assertRefused(_ file: String, _ fragments: String..., line: UInt = #line) {
        XCTAssertThrowsError(try GraphModel.onnx(contentsOf: url(file)), line: line) { error in
            let message = "\(error)"
            for fragment in [file] + fragments {
                XCTAssert(message.contains(fragment), "'\(fragment)' not in: \(message)", line: line)
            }
        }
    }

    func testUnsupportedOperatorsAndAttributesAreNamed() {
        assertRefused("unsupported_operator.onnx", "/up/Resize", "the operator Resize is not supported", "opset 20")
        assertRefused("unsupported_attribute.onnx", "/pad/Pad", "Pad mode 'wrap' is not supported")
    }

    func testShapesThatDoNotFitAreRefusedAtTheirNode() {
        assertRefused("conv_channels_mismatch.onnx", "/conv/Conv", "3 channels", "expects 4")
    }

    func testValuesTooLargeToMakeAreRefusedBeforeAnyAllocation() {
        assertRefused("huge_expand.onnx", "/grow/Expand", "would hold more than")
    }

    func testAModelWhoseOutputIsNotClassScoresIsRefused() {
        assertRefused("output_not_classes.onnx", "[1, 6, 8, 8]", "a classifier outputs (N, classes)")
    }

    func testOpsetsOlderThan13AreRefused() {
        assertRefused("opset_too_old.onnx", "opset 11 is not supported")
    }

    func testAValidModelRunsAndNamesItsLayers() throws {
        let model = try GraphModel.onnx(contentsOf: url("valid_tiny_classifier.onnx"))
        XCTAssertEqual(model.outputSize, 4)
        XCTAssertEqual(model.defaultTargetLayer, "act")
        XCTAssertEqual(model.listedLayers.map(\.name), ["conv", "act", "pool", "flatten", "fc"])
        let logits = model(Tensor(repeating: 0.5, shape: [2, 3, 8, 8]))
        XCTAssertEqual(logits.shape, [2, 4])
        XCTAssertEqual(Array(logits.scalars[0..<4]), Array(logits.scalars[4..<8]))
    }

    func testLabelsWhoseCountDiffersFromTheClassesAreRefused() throws {
        let descriptor = try ModelDescriptor.onnx(name: "tiny", url: url("valid_tiny_classifier.onnx"),
                                                  labelsURL: url("labels3.txt"), preprocessing: nil)
        XCTAssertThrowsError(try descriptor.load()) { error in
            XCTAssert("\(error)".contains("labels3.txt") && "\(error)".contains("3 labels for a model with 4 classes"), "\(error)")
        }
        let good = try ModelDescriptor.onnx(name: "tiny", url: url("valid_tiny_classifier.onnx"), labelsURL: url("labels4.txt"),
                                            preprocessing: nil)
        let model = try good.load()
        XCTAssertEqual(model.labels, ["a", "b", "c", "d"])
        XCTAssertEqual(model.preprocessing.cropHeight, 8)
    }

    func testAZooFileTakesAnONNXModel() throws {
        let folder = try temporaryFolder("onnx-zoo")
        for file in ["valid_tiny_classifier.onnx", "labels4.txt"] {
            try FileManager.default.copyItem(at: url(file), to: folder.appendingPathComponent(file))
        }
        let zoo = folder.appendingPathComponent("zoo.json")
        try Data(#"{"models": [{"name": "tiny", "architecture": "onnx", "weights": "valid_tiny_classifier.onnx", "labels": "labels4.txt"}]}"#.utf8)
            .write(to: zoo)
        let catalog = try ModelCatalog(zooFile: try ZooFile(contentsOf: zoo))
        let model = try catalog.descriptor(named: "tiny").load()
        let photo = RGBImage(width: 12, height: 10, pixels: [UInt8](repeating: 128, count: 12 * 10 * 3))
        let explanation = try model.explain(photo, options: ExplainOptions(method: .gradcam))
        XCTAssertEqual(explanation.layer, "act")
        XCTAssertEqual(explanation.lowResolutionMap.shape, [8, 8])
    }

    func testTheCommandLineExplainsAndListsAnONNXFile() throws {
        let folder = try temporaryFolder("onnx-cli")
        let photo = fixtureURL("images/photo.png").path
        let run = try runExplain([photo, "--model", url("valid_tiny_classifier.onnx").path, "--labels", url("labels4.txt").path,
                                  "--out", folder.path, "--json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let record = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], run.stdout)
        XCTAssertEqual(record["model"] as? String, "valid_tiny_classifier")
        XCTAssertEqual(record["layer"] as? String, "act")
        XCTAssert(FileManager.default.fileExists(atPath: folder.appendingPathComponent("photo.valid_tiny_classifier.png").path))

        let layers = try runExplain(["layers", url("valid_tiny_classifier.onnx").path, "--", "--labels", url("labels4.txt").path])
        XCTAssertEqual(layers.status, 0, layers.stderr)
        XCTAssert(layers.stdout.contains("act") && layers.stdout.contains("← default Grad-CAM layer"), layers.stdout)

        let wrong = try runExplain([photo, "--model", url("valid_tiny_classifier.onnx").path, "--labels", url("labels3.txt").path])
        XCTAssertNotEqual(wrong.status, 0)
        XCTAssert(wrong.stderr.contains("3 labels for a model with 4 classes"), wrong.stderr)
    }
}
