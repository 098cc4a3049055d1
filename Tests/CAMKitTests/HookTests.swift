import XCTest
import CAMKit

/// Hooks on named layers, and backward that stops at the layer asked about.
final class HookTests: XCTestCase {
    let config = ConvNeXtV2Config(name: "test", depths: [1, 1, 2, 1], dims: [8, 16, 32, 64], convMLP: false)

    func seededModel() -> SeedModel {
        let model = SeedModel(.hybrid, backbone: config, numClasses: 4)
        SeededWeights.fill(model)
        return model
    }

    func testBackwardStopsAtTheTargetLayer() throws {
        let model = seededModel()
        var earlier: Tensor?
        let handle = model.module(named: "backbone.stages.2")!.registerForwardHook { earlier = $0 }
        defer { handle() }
        let input = SeededWeights.input(shape: [1, 3, 64, 64])
        let capture = try LayerCapture(model: model, layers: ["backbone.stages.3"])
        try capture.run(model, input) { $0.oneHotSeed(classes: [3]) }

        XCTAssertNotNil(capture.gradients["backbone.stages.3"])
        XCTAssertEqual(earlier?.requiresGrad, false, "ops before the target layer must not be recorded")
        XCTAssertNil(input.grad)
        for (name, parameter) in model.namedParameters() {
            XCTAssertNil(parameter.value.grad, "\(name) got a gradient nobody asked for")
        }
    }

    func testTwoLayersGetTheirGradientsInOnePass() throws {
        let model = seededModel()
        let layers = ["backbone.stages.2", "backbone.stages.3", "morphological_extractor"]
        let capture = try LayerCapture(model: model, layers: layers)
        try capture.run(model, SeededWeights.input(shape: [1, 3, 64, 64])) { $0.oneHotSeed(classes: [1]) }
        for layer in layers {
            let activation = try XCTUnwrap(capture.activations[layer], layer)
            XCTAssertEqual(capture.gradients[layer]?.shape, activation.shape, layer)
        }
        XCTAssertEqual(capture.activations["backbone.stages.3"]?.shape, [1, 64, 2, 2])
    }

    func testRemovedHooksNoLongerRecord() throws {
        let model = seededModel()
        var capture: LayerCapture? = try LayerCapture(model: model, layers: ["backbone.stages.3"])
        _ = capture
        capture = nil
        let logits = model(SeededWeights.input(shape: [1, 3, 64, 64]))
        XCTAssertFalse(logits.requiresGrad, "a released capture must take its hooks with it")
    }

    func testUnknownLayerListsValidNames() {
        XCTAssertThrowsError(try LayerCapture(model: seededModel(), layers: ["backbone.stages.9"])) { error in
            let message = String(describing: error)
            XCTAssert(message.contains("backbone.stages.9") && message.contains("backbone.stages.3"), message)
        }
    }

    func testNamedModulesUseTorchNames() {
        let names = Set(seededModel().namedModules().map(\.name))
        for name in ["backbone.stem.0", "backbone.stages.3.blocks.0.mlp.grn", "backbone.stages.1.downsample.1",
                     "backbone.head.norm", "attention.fc_in", "morphological_extractor.morphological_analyzers.color_pattern.6",
                     "morphological_extractor.feature_attention.out_proj", "feature_fusion.5", "classifier.2"] {
            XCTAssert(names.contains(name), "missing \(name)")
        }
    }
}
