import Foundation
import XCTest
@testable import CAMKit

/// Post-processing, targets, errors and metrics on cases whose answer is known by construction.
final class CAMUnitTests: XCTestCase {
    // MARK: post-processing

    /// Expected values from `cv2.resize(a, (5, 4))` and `cv2.resize(b, (7, 3))`, OpenCV 5.0.0.
    func testResizeMatchesOpenCV() {
        let a: [Float] = [0, 1, 2, 3, 4, 5.5]
        let expectedA: [Float] = [0, 0.4, 1, 1.6, 2,
                                  0.75, 1.15, 1.75, 2.4250002, 2.875,
                                  2.25, 2.65, 3.25, 4.0750003, 4.625,
                                  3, 3.4, 4, 4.9, 5.5]
        assertEqual(MapPostprocessing.resizeBilinear(a, height: 2, width: 3, toHeight: 4, toWidth: 5), expectedA)
        let b: [Float] = [1, 0, 0, 0.25]
        let expectedB: [Float] = [1, 1, 0.78571427, 0.5, 0.21428573, 0, 0,
                                  0.5, 0.5, 0.41964284, 0.3125, 0.20535715, 0.125, 0.125,
                                  0, 0, 0.05357143, 0.125, 0.19642857, 0.25, 0.25]
        assertEqual(MapPostprocessing.resizeBilinear(b, height: 2, width: 2, toHeight: 3, toWidth: 7), expectedB)
    }

    func testMinMaxScalingKeepsTheReferenceEpsilon() {
        XCTAssertEqual(MapPostprocessing.minMaxScaled([2, 4, 3]), [0, 2 / (2 + 1e-7), 1 / (2 + 1e-7)])
        XCTAssertEqual(MapPostprocessing.minMaxScaled([5, 5]), [0, 0], "a flat map stays at zero")
        XCTAssertEqual(MapPostprocessing.relu([-1, 0.5]), [0, 0.5])
    }

    func testTestTimeAugmentationsAreTtachsSix() {
        let all = TestTimeAugmentation.gradCAMDefault
        XCTAssertEqual(all.map(\.horizontalFlip), [false, false, false, true, true, true])
        XCTAssertEqual(all.map(\.factor), [0.9, 1, 1.1, 0.9, 1, 1.1])
        let x = Tensor(shape: [1, 1, 1, 3], scalars: [1, 2, 3])
        let flip = TestTimeAugmentation(horizontalFlip: true, factor: 2)
        XCTAssertEqual(flip.augment(x).scalars, [6, 4, 2])
        XCTAssertEqual(flip.deaugment(Tensor(shape: [1, 3], scalars: [1, 2, 3])).scalars, [3, 2, 1])
    }

    // MARK: targets and errors

    func testTargetsResolve() throws {
        let logits: ArraySlice<Float> = [0.5, 3, -1, 2]
        let labels = ["Border Collie", "Collie", "Shetland Sheepdog", "Pug"]
        XCTAssertEqual(try CAMTarget.topPrediction.resolve(logits: logits, labels: nil), [TargetScore(1)])
        XCTAssertEqual(try CAMTarget.topK(3).resolve(logits: logits, labels: nil).map(\.classIndex), [1, 3, 0])
        XCTAssertEqual(try CAMTarget.label("collie").resolve(logits: logits, labels: labels), [TargetScore(1)])
        let contrast = try CAMTarget.contrast(0, 1).resolve(logits: logits, labels: nil)
        XCTAssertEqual(contrast, [TargetScore(0, versus: 1)])
        XCTAssertEqual(contrast[0].score(logits), -2.5)
    }

    func testPrincipalComponentRefusesInfinitiesInsteadOfCallingLAPACK() {
        var values = [Float](repeating: 1, count: 2 * 3 * 3)
        values[4] = .infinity
        XCTAssertThrowsError(try PrincipalComponent.projection(Tensor(shape: [1, 2, 3, 3], scalars: values))) { error in
            XCTAssertEqual(error as? CAMError, .notFinite("the (C, h, w) terms of image 0"))
            XCTAssert("\(error)".contains("infinite"), "\(error)")
        }
        values[4] = .nan
        XCTAssertNoThrow(try PrincipalComponent.projection(Tensor(shape: [1, 2, 3, 3], scalars: values)), "NaNs count as 0, as in the reference")
    }

    func testTargetErrorsNameTheValue() {
        let logits: ArraySlice<Float> = [0, 1, 2]
        let labels = ["Border Collie", "Collie", "Pug"]
        XCTAssertThrowsError(try CAMTarget.classIndex(3).resolve(logits: logits, labels: nil)) {
            XCTAssertEqual("\($0)", "class index 3 is out of range: the model has classes 0..<3")
        }
        XCTAssertThrowsError(try CAMTarget.topK(4).resolve(logits: logits, labels: nil)) {
            XCTAssertEqual($0 as? CAMError, .topKOutOfRange(4, classes: 3))
        }
        XCTAssertThrowsError(try CAMTarget.label("Boarder Colie").resolve(logits: logits, labels: labels)) {
            guard case .unknownLabel(_, let close)? = $0 as? CAMError else { return XCTFail("\($0)") }
            XCTAssertEqual(close.first, "Border Collie")
        }
        XCTAssertThrowsError(try CAMTarget.label("Pug").resolve(logits: logits, labels: nil)) {
            XCTAssertEqual($0 as? CAMError, .noLabels("Pug"))
        }
    }

    func testUnknownLayerListsValidNames() throws {
        let model = smallModel()
        XCTAssertThrowsError(try CAMExtractor(model: model, method: GradCAM(), layers: ["backbone.stages.7"])) {
            let error = $0 as? UnknownLayerError
            XCTAssertEqual(error?.name, "backbone.stages.7")
            XCTAssert(error?.suggestions.contains("backbone.stages.3") == true, "\($0)")
        }
        let extractor = try CAMExtractor(model: model, method: GradCAM())
        XCTAssertEqual(extractor.layers, ["backbone.stages.3"])
    }

    func testScoreCAMReportsProgressAndLeavesNoHooks() throws {
        let model = smallModel()
        var reports: [CAMProgress] = []
        let extractor = try CAMExtractor(model: model, method: ScoreCAM())
        // At 64 × 64 the layer is 2 × 2; at 1 × 1 every mask would be all zero, and one pass do.
        let input = SeededWeights.input(shape: [1, 3, 64, 64])
        _ = try extractor.explain(input) { reports.append($0) }
        XCTAssertEqual(reports.map(\.completed), [1, 2, 3, 4], "64 channels in batches of 16")
        XCTAssert(reports.allSatisfy { $0.total == 4 && $0.method == "scorecam" })
        XCTAssertFalse(model(input).requiresGrad, "the extractor must not leave hooks behind")
    }

    func testReplacedOutputSkipsForwardUntilRemoved() {
        let model = smallModel()
        let input = SeededWeights.input(shape: [1, 3, 32, 32])
        let stage = model.module(named: "backbone.stages.3")!
        let zeros = Tensor.zeros([1, 64, 1, 1])
        let handle = stage.replaceOutput { _ in zeros }
        let constant = model(input)
        XCTAssertEqual(model(SeededWeights.input(shape: [1, 3, 32, 32], seed: 7)).scalars, constant.scalars,
                       "with the stage replaced the input no longer matters")
        handle()
        XCTAssertNotEqual(model(input).scalars, constant.scalars)
    }

    // MARK: metrics

    /// Logits `(4 · mean brightness, 0)`: masking half the image with a 0/1 map halves the first.
    final class Brightness: Module {
        override func forward(_ x: Tensor) -> Tensor {
            let n = x.shape[0], size = x.count / n
            var logits = [Float](repeating: 0, count: 2 * n)
            for i in 0..<n {
                let sum: Float = x.scalars[i * size ..< (i + 1) * size].reduce(0, +)
                logits[2 * i] = 4 * sum / Float(size)
            }
            return Tensor(shape: [n, 2], scalars: logits)
        }
    }

    func testAverageDropAndIncreaseInConfidence() {
        let input = Tensor(repeating: 1, shape: [2, 3, 4, 4])
        let half = (0..<16).map { Float($0 % 4 < 2 ? 1 : 0) }
        let maps = Tensor(shape: [2, 4, 4], scalars: half + half)
        let change = CAMMetrics.confidenceChange(model: Brightness(), input: input, maps: maps, classes: [0, 1])
        let sigmoid = { (x: Float) in 1 / (1 + exp(-x)) }
        XCTAssertEqual(change.before[0], sigmoid(4), accuracy: 1e-6)
        XCTAssertEqual(change.after[0], sigmoid(2), accuracy: 1e-6)
        XCTAssertEqual(change.after[1], sigmoid(-2), accuracy: 1e-6)
        // Image 0 drops from σ(4) to σ(2); image 1 (class 1) rises from σ(−4) to σ(−2).
        XCTAssertEqual(change.averageDrop, 100 * (sigmoid(4) - sigmoid(2)) / sigmoid(4) / 2, accuracy: 1e-4)
        XCTAssertEqual(change.increaseInConfidence, 50)

        let full = CAMMetrics.confidenceChange(model: Brightness(), input: input, maps: Tensor(repeating: 1, shape: [2, 4, 4]), classes: [0, 1])
        XCTAssertEqual(full.averageDrop, 0)
        XCTAssertEqual(full.increaseInConfidence, 0)
    }

    func testPointingGame() {
        var values = [Float](repeating: 0.1, count: 20 * 30)
        values[5 * 30 + 10] = 1  // peak at row 5, column 10
        let map = Tensor(shape: [20, 30], scalars: values)
        XCTAssertTrue(CAMMetrics.pointingGame(map: map, box: .init(x0: 8, y0: 3, x1: 12, y1: 6)))
        XCTAssertFalse(CAMMetrics.pointingGame(map: map, box: .init(x0: 11, y0: 0, x1: 29, y1: 19)))
        XCTAssertTrue(CAMMetrics.pointingGame(map: map, box: .init(x0: 11, y0: 0, x1: 29, y1: 19), tolerance: 1))
    }

    // MARK: helpers

    func smallModel() -> SeedModel {
        let config = ConvNeXtV2Config(name: "small", depths: [1, 1, 2, 1], dims: [8, 16, 32, 64], convMLP: false)
        let model = SeedModel(.cnn, backbone: config, numClasses: 5)
        SeededWeights.fill(model)
        return model
    }

    func assertEqual(_ actual: [Float], _ expected: [Float], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, file: file, line: line)
        for (i, (a, e)) in zip(actual, expected).enumerated() {
            XCTAssertEqual(a, e, accuracy: 1e-6, "element \(i)", file: file, line: line)
        }
    }
}
