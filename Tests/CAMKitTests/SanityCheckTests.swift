import Foundation
import XCTest
@testable import CAMKit

/// The sanity checks tell a method that ignores the model from one that does not.
final class SanityCheckTests: XCTestCase {
    /// On the pretrained EfficientNet-Lite0: SobelCAM and (seeded) RandomCAM do not depend on
    /// the weights after `_head_act`; Grad-CAM does. Skips, naming `make models`, without the weights.
    func testBaselinesFailAndGradCAMPassesOnTheTrainedModel() throws {
        let entry = ModelZoo.efficientNetLite0
        guard entry.weightsArePresent else {
            throw XCTSkip("\(MissingWeightsError(entry: entry)); run `make models` to run this test on the trained model")
        }
        let model = try entry.load()
        let input = SeededWeights.input(shape: [1, 3, 224, 224])
        let before = model(input).detached()
        func report(_ method: @escaping () -> CAMMethod) throws -> SanityCheck.Report {
            try SanityCheck(method: method, layer: "_head_act", cascadeSteps: 2, independent: false).run(model: model, input: input)
        }
        let sobel = try report { SobelCAM() }
        let random = try report { RandomCAM(seed: 1) }
        let gradCAM = try report { GradCAM() }
        print("sanity: head ρ sobel \(sobel.headSpearman), random \(random.headSpearman), gradcam \(gradCAM.headSpearman); "
              + "cascade ρ \(sobel.cascadeSpearman), \(random.cascadeSpearman), \(gradCAM.cascadeSpearman); "
              + "random logit ρ \(sobel.randomLogit.spearman), \(random.randomLogit.spearman), \(gradCAM.randomLogit.spearman)")
        XCTAssertEqual(gradCAM.headUnits, ["_fc"])
        XCTAssertEqual(sobel.dependsOnWeights, .no)
        XCTAssertNotEqual(random.dependsOnWeights, .yes)
        XCTAssertEqual(gradCAM.dependsOnWeights, .yes)
        XCTAssertEqual(sobel.dependsOnClass, .no)
        XCTAssertEqual(gradCAM.dependsOnClass, .yes)
        XCTAssertEqual(model(input).detached().scalars, before.scalars, "the weights were not restored")
    }

    /// BatchNorm (the hybrid's analyzers) keeps its statistics: no NaN, and the same report twice.
    func testBatchNormModelStaysFiniteAndTheSeedFixesTheReport() throws {
        let model = try CAMMethodParityTests.model(named: "small_hybrid")
        let input = SeededWeights.input(shape: [1, 3, 64, 64])
        let check = SanityCheck(method: { GradCAM() }, layer: "backbone.stages.3", unitDepth: 3)
        let a = try check.run(model: model, input: input)
        let b = try check.run(model: model, input: input)
        XCTAssert(a.headUnits.contains { $0.hasPrefix("morphological_extractor") } && a.headUnits.contains("classifier.2"))
        XCTAssertEqual(a.cascading.count, a.independent.count)
        for s in a.cascading + a.independent + [a.randomLogit] {
            XCTAssert(s.spearman.isFinite && s.ssim.isFinite, "\(s.what): \(s)")
        }
        XCTAssertEqual(a.cascading, b.cascading)
        XCTAssertEqual(a.randomLogit, b.randomLogit)
    }

    func testSimilarityOfKnownMaps() {
        let a: [Float] = (0..<100).map { Float($0) / 99 }
        XCTAssertEqual(MapSimilarity.spearman(a, a), 1, accuracy: 1e-6)
        XCTAssertEqual(MapSimilarity.spearman(a, a.reversed()), -1, accuracy: 1e-6)
        XCTAssertEqual(MapSimilarity.spearman(a, a.map { $0 * $0 }), 1, accuracy: 1e-6, "ranks only")
        XCTAssertEqual(MapSimilarity.ssim(a, a, height: 10, width: 10), 1, accuracy: 1e-5)
        XCTAssertLessThan(MapSimilarity.ssim(a, a.reversed(), height: 10, width: 10), 0.5)
    }
}
