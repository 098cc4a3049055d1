import Foundation
import XCTest
import CAMKit

/// EfficientNet-Lite0 exported to ONNX from its real checkpoint
/// (`make onnx-models`: scripts/reference/export_efficientnet_lite0_onnx.py, both exporters)
/// against our native EfficientNet-Lite0 on the same weights: logits and Grad-CAM maps at the
/// default layer within 1e-4. Skips, naming the command, where the export has not been made.
final class ONNXRealModelTests: XCTestCase {
    func compare(exportedAs file: String) throws {
        let url = ModelZoo.modelsDirectory.appendingPathComponent(file)
        guard FileManager.default.fileExists(atPath: url.path), ModelZoo.efficientNetLite0.weightsArePresent else {
            throw XCTSkip("\(url.path) is absent: run `make models onnx-models` (needs the Python venv of `make venv`)")
        }
        let imported = try GraphModel.onnx(contentsOf: url)
        let native = try ModelZoo.efficientNetLite0.load()
        let p = ModelZoo.efficientNetLite0.preprocessing
        XCTAssertEqual(imported.inputShape, [1, 3, p.cropHeight, p.cropWidth])
        let input = SeededWeights.input(shape: imported.inputShape)

        let ours = try CAMExtractor(model: native, method: GradCAM()).explain(input)
        let theirs = try CAMExtractor(model: imported, method: GradCAM()).explain(input)
        let scale = ours.logits.scalars.map(abs).max() ?? 1
        let logitDiff = zip(ours.logits.scalars, theirs.logits.scalars).map { abs($0 - $1) }.max() ?? .infinity
        XCTAssertLessThanOrEqual(logitDiff, 1e-4 * max(scale, 1), "\(file): logits")
        let mapDiff = zip(ours.maps(target: 0).scalars, theirs.maps(target: 0).scalars).map { abs($0 - $1) }.max() ?? .infinity
        XCTAssertLessThanOrEqual(mapDiff, 1e-4, "\(file): Grad-CAM map at \(imported.defaultTargetLayer) vs \(native.defaultTargetLayer)")
        print("\(file): default layer \(imported.defaultTargetLayer); max |diff| logits \(logitDiff), map \(mapDiff)")
    }

    func testTheDynamoExportMatchesTheNativeModel() throws { try compare(exportedAs: "efficientnet-lite0.onnx") }

    func testTheTorchScriptExportMatchesTheNativeModel() throws { try compare(exportedAs: "efficientnet-lite0.torchscript.onnx") }
}
