import Foundation
import XCTest
@testable import CAMKit

/// The perturbation metrics against pytorch-grad-cam 1.5.7 (ROAD with its noise set to 0, the
/// confidence changes) and torchcam 0.5 (deletion / insertion) on the same Grad-CAM maps
/// (`scripts/reference/make_metric_fixtures.py`): within 1e-4 relative, relative to at least
/// 0.01 — the score changes are differences of logits near 1, whose float rounding (~5e-7)
/// would otherwise dominate the changes close to 0.
final class MetricParityTests: XCTestCase {
    static let tolerance: Float = 1e-4

    func assertRelative(_ actual: [Float], _ expected: Tensor?, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        guard let expected, expected.count == actual.count else { return XCTFail("\(what): shape", file: file, line: line) }
        for (a, e) in zip(actual, expected.scalars) {
            let error = abs(a - e) / max(abs(e), 1e-2)
            XCTAssertLessThanOrEqual(error, Self.tolerance, "\(what): \(a) vs \(e)", file: file, line: line)
        }
    }

    func testMetricsMatchTheReference() throws {
        let expected = try Safetensors.read(contentsOf: fixtureURL("metrics/small_cnn_gradcam_metrics.safetensors"))
        let model = try CAMMethodParityTests.model(named: "small_cnn")
        let input = SeededWeights.input(shape: [2, 3, 64, 64])
        let maps = try XCTUnwrap(expected["cam"])
        let classes = model(input).argmaxRows()
        let targets = classes.map { TargetScore($0) }
        var passes = 0
        let metrics = PerturbationMetrics(model: model, batchSize: 4) { _, _ in passes += 1 }
        let quiet = NoisyLinearImputer(noise: 0)

        assertRelative(metrics.camMultImageConfidenceChange(input: input, maps: maps, targets: targets), expected["cam_mult_image"], "cam × image")
        assertRelative(metrics.dropInConfidence(input: input, maps: maps, targets: targets), expected["drop_in_confidence"], "drop in confidence")
        assertRelative(metrics.increaseInConfidence(input: input, maps: maps, targets: targets), expected["increase_in_confidence"], "increase in confidence")
        let p = PerturbationMetrics.roadPercentiles
        let morf = metrics.road(.mostRelevantFirst, percentiles: p, input: input, maps: maps, targets: targets, imputer: quiet)
        let lerf = metrics.road(.leastRelevantFirst, percentiles: p, input: input, maps: maps, targets: targets, imputer: quiet)
        assertRelative(morf.flatMap { $0 }, expected["road_morf"], "ROAD MoRF")
        assertRelative(lerf.flatMap { $0 }, expected["road_lerf"], "ROAD LeRF")
        func mean(_ x: [Float]) -> Float { x.reduce(0, +) / Float(x.count) }
        assertRelative(morf.map(mean), expected["road_morf_average"], "ROAD MoRF average")
        assertRelative(lerf.map(mean), expected["road_lerf_average"], "ROAD LeRF average")
        // The combined score on its own (it runs both averages).
        assertRelative(metrics.roadCombined(input: input, maps: maps, targets: targets, imputer: quiet), expected["road_combined"], "ROAD combined")
        for softmax in [false, true] {
            let name = softmax ? "softmax" : "logits"
            let auc = metrics.deletionInsertion(input: input, maps: maps, classes: classes, softmax: softmax)
            assertRelative(auc.map(\.deletion), expected["deletion_auc_\(name)"], "deletion AUC (\(name))")
            assertRelative(auc.map(\.insertion), expected["insertion_auc_\(name)"], "insertion AUC (\(name))")
        }
        XCTAssertGreaterThan(passes, 0, "no progress reported")
    }

    /// The confidence changes and ROAD combined on the class probability, as the gallery scores
    /// them (the reference's `ClassifierOutputSoftmaxTarget`), each function on its own passes
    /// and all of them from `faithfulness`'s single batch.
    func testProbabilityScoresMatchTheReference() throws {
        let expected = try Safetensors.read(contentsOf: fixtureURL("metrics/small_cnn_gradcam_softmax_metrics.safetensors"))
        let model = try CAMMethodParityTests.model(named: "small_cnn")
        let input = SeededWeights.input(shape: [2, 3, 64, 64])
        let maps = try XCTUnwrap(expected["cam"])
        let targets = model(input).argmaxRows().map { TargetScore($0) }
        let quiet = NoisyLinearImputer(noise: 0)
        var passes = 0
        let metrics = PerturbationMetrics(model: model, batchSize: 4) { _, _ in passes += 1 }

        assertRelative(metrics.camMultImageConfidenceChange(input: input, maps: maps, targets: targets, softmax: true),
                       expected["cam_mult_image"], "cam × image")
        assertRelative(metrics.dropInConfidence(input: input, maps: maps, targets: targets, softmax: true), expected["drop_in_confidence"],
                       "drop in confidence")
        assertRelative(metrics.increaseInConfidence(input: input, maps: maps, targets: targets, softmax: true),
                       expected["increase_in_confidence"], "increase in confidence")
        assertRelative(metrics.roadCombined(input: input, maps: maps, targets: targets, softmax: true, imputer: quiet),
                       expected["road_combined"], "ROAD combined")

        passes = 0
        let together = PerturbationMetrics(model: model, batchSize: 40) { _, _ in passes += 1 }
            .faithfulness(input: input, maps: maps, targets: targets, road: true, softmax: true, imputer: quiet)
        XCTAssertEqual(passes, 1, "2 inputs, 2 masked and 2 · 18 ROAD copies in one batch")
        assertRelative(together.map(\.confidenceChange), expected["cam_mult_image"], "faithfulness: cam × image")
        assertRelative(together.map(\.dropInConfidence), expected["drop_in_confidence"], "faithfulness: drop in confidence")
        assertRelative(together.map { $0.increaseInConfidence ? 1 : 0 }, expected["increase_in_confidence"], "faithfulness: increase")
        assertRelative(together.compactMap(\.roadCombined), expected["road_combined"], "faithfulness: ROAD combined")
    }

    /// With noise the imputation is seeded: the same seed gives the same pixels.
    func testImputerNoiseIsSeeded() {
        let image = (0..<(2 * 6 * 5)).map { Float($0 % 7) / 7 }
        let keep = (0..<30).map { $0 % 3 != 0 }
        let a = NoisyLinearImputer(seed: 3).impute(image, channels: 2, height: 6, width: 5, keep: keep)
        XCTAssertEqual(a, NoisyLinearImputer(seed: 3).impute(image, channels: 2, height: 6, width: 5, keep: keep))
        XCTAssertNotEqual(a, NoisyLinearImputer(seed: 4).impute(image, channels: 2, height: 6, width: 5, keep: keep))
        XCTAssertEqual(zip(a, image).filter { $0 != $1 }.count, 20, "only the removed pixels change")
    }
}
