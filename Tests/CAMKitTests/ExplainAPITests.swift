import XCTest
import CAMKit

/// The embedding API: one call from a photo to predictions, a map and its overlay.
final class ExplainAPITests: XCTestCase {
    func smallModel() -> ExplainableModel {
        let config = ConvNeXtV2Config(name: "small", depths: [1, 1, 2, 1], dims: [8, 16, 32, 64], convMLP: false)
        let model = SeedModel(.cnn, backbone: config, numClasses: 5)
        SeededWeights.fill(model)
        let recipe = Preprocessing(resizeShorterSide: 72, cropWidth: 64, cropHeight: 64, interpolation: .bilinear,
                                   mean: Preprocessing.imagenetMean, std: Preprocessing.imagenetStd)
        return ExplainableModel(name: "small", model: model, labels: ["Border_collie", "collie", "Shih-Tzu", "pug", "Samoyed"],
                                preprocessing: recipe)
    }

    func photo() -> RGBImage {
        var pixels = [UInt8]()
        for y in 0..<90 { for x in 0..<120 { pixels += [UInt8(x * 2), UInt8(y * 2), UInt8((x + y) % 256)] } }
        return RGBImage(width: 120, height: 90, pixels: pixels)
    }

    func testExplainGivesPredictionsMapAndOverlay() throws {
        let explanation = try smallModel().explain(photo(), options: ExplainOptions(topK: 3))
        XCTAssertEqual(explanation.top.count, 3)
        XCTAssert(zip(explanation.top, explanation.top.dropFirst()).allSatisfy { $0.probability >= $1.probability })
        XCTAssertEqual(explanation.targetIndex, explanation.top[0].index)
        XCTAssertEqual(explanation.layer, "backbone.stages.3")
        XCTAssertEqual(explanation.map.shape, [64, 64])
        XCTAssertEqual(explanation.lowResolutionMap.shape, [2, 2])
        XCTAssertEqual(explanation.overlay.width, 120)
        XCTAssertEqual(explanation.overlay.height, 90)
        XCTAssertEqual(explanation.input.shape, [1, 3, 64, 64])
    }

    func testContrastAndLabelTargets() throws {
        let model = smallModel()
        let contrast = try model.explain(photo(), options: ExplainOptions(target: try TargetSpec(parsing: "Border_collie-vs-collie")))
        XCTAssertEqual(contrast.targetIndex, 0)
        XCTAssertEqual(contrast.versusIndex, 1)
        let byLabel = try model.explain(photo(), options: ExplainOptions(target: try TargetSpec(parsing: "Shih-Tzu")))
        XCTAssertEqual(byLabel.targetLabel, "Shih-Tzu")
        XCTAssertThrowsError(try model.explain(photo(), options: ExplainOptions(target: .label("Colie")))) { error in
            XCTAssert("\(error)".contains("collie"), "\(error)")
        }
        XCTAssertThrowsError(try model.explain(photo(), options: ExplainOptions(target: .classIndex(9)))) { error in
            XCTAssert("\(error)".contains("9"), "\(error)")
        }
    }

    func testTargetParsing() throws {
        XCTAssertEqual(try TargetSpec(parsing: "top1"), .top1)
        XCTAssertEqual(try TargetSpec(parsing: "232"), .classIndex(232))
        XCTAssertEqual(try TargetSpec(parsing: "Shih-Tzu"), .label("Shih-Tzu"))
        XCTAssertEqual(try TargetSpec(parsing: "232-vs-collie"), .contrast(.classIndex(232), .label("collie")))
        XCTAssertThrowsError(try TargetSpec(parsing: ""))
        XCTAssertThrowsError(try TargetSpec(parsing: "top1-vs-3"))
        XCTAssertEqual(try CAMMethodName(parsing: "GradCAM++"), .gradcamPlusPlus)
        XCTAssertThrowsError(try CAMMethodName(parsing: "gradcam+++")) { XCTAssert("\($0)".contains("hirescam")) }
    }

    func testUnknownLayerIsNamed() {
        XCTAssertThrowsError(try smallModel().explain(photo(), options: ExplainOptions(layer: "backbone.stages.7"))) { error in
            XCTAssert("\(error)".contains("backbone.stages.7"), "\(error)")
        }
    }
}
