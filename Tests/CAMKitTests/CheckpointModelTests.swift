import Foundation
import XCTest
import CAMKit

/// Real-format checkpoints of whole models: a `torch.save` zip with a wrapping
/// `model_state_dict` and DataParallel's `module.` prefix, loaded into a seed model and run.
final class CheckpointModelTests: XCTestCase {
    /// The small ConvNeXt V2 of `scripts/reference/make_parity_fixtures.py` (timm `ConvNeXt`
    /// with depths 1-1-2-1, dims 8…64, Linear MLP).
    let small = ConvNeXtV2Config(name: "small", depths: [1, 1, 2, 1], dims: [8, 16, 32, 64], convMLP: false)

    /// Loads `checkpoint` into the small cnn_mha model and compares logits, the stages.3
    /// activation and its gradient with PyTorch's for the seeded input and targets [1, 4].
    func checkAgainstPyTorch(checkpoint: String, expected: String) throws {
        let model = SeedModel(.cnnMHA, backbone: small, numClasses: 5)
        try model.load(StateDict(contentsOf: fixtureURL("checkpoints/\(checkpoint)")))
        let expected = try Safetensors.read(contentsOf: fixtureURL("checkpoints/\(expected)"))

        let capture = try LayerCapture(model: model, layers: ["backbone.stages.3"])
        let logits = try capture.run(model, SeededWeights.input(shape: [2, 3, 64, 64])) { $0.oneHotSeed(classes: [1, 4]) }
        assertClose(logits, expected["logits"], tolerance: 1e-4, floor: 1e-5, "\(checkpoint) logits")
        assertClose(capture.activations["backbone.stages.3"], expected["stages3"], tolerance: 1e-4, floor: 1e-5, "\(checkpoint) stages.3")
        assertClose(capture.gradients["backbone.stages.3"], expected["grad_stages3"], tolerance: 1e-3, "\(checkpoint) stages.3 gradient")
    }

    func testTorchCheckpointOfSeedModelMatchesPyTorch() throws {
        try checkAgainstPyTorch(checkpoint: "small_cnn_mha.pth", expected: "small_cnn_mha.expected.safetensors")
    }

    /// As the seed's app saves its checkpoints: beside an optimizer's state and the epoch, or
    /// under a key of its own.
    func testTrainingAndBaseModelCheckpointsMatchPyTorch() throws {
        try checkAgainstPyTorch(checkpoint: "small_cnn_mha.training.pth", expected: "small_cnn_mha.expected.safetensors")
        try checkAgainstPyTorch(checkpoint: "small_cnn_mha.base_model.pth", expected: "small_cnn_mha.expected.safetensors")
    }

    func testCheckpointWithTwoStateDictsNamesThem() {
        let file = fixtureURL("checkpoints/two_state_dicts.pth")
        XCTAssertThrowsError(try StateDict(contentsOf: file)) { error in
            XCTAssertEqual("\(error)", "\(file.path): no state dict found: the top-level dict holds 2 state dicts, under student, teacher; save the one to explain on its own")
        }
    }

    /// The same model stored as BF16 safetensors; PyTorch computed the expected outputs from
    /// the BF16 weights widened to float32, so only float32 arithmetic differs.
    func testBFloat16SafetensorsOfSeedModelMatchesPyTorch() throws {
        try checkAgainstPyTorch(checkpoint: "small_cnn_mha.bf16.safetensors", expected: "small_cnn_mha.bf16.expected.safetensors")
    }

    func testCheckpointForAnotherArchitectureNamesTheProblems() throws {
        let model = SeedModel(.hybrid, backbone: small, numClasses: 7)
        let before = model.namedParameters().map { $0.parameter.value.scalars }
        XCTAssertThrowsError(try model.load(StateDict(contentsOf: fixtureURL("checkpoints/small_cnn_mha.pth")))) { error in
            let message = String(describing: error)
            XCTAssert(message.contains("small_cnn_mha.pth"), message)
            XCTAssert(message.contains("morphological_extractor.dimension_transformer.0.weight"), message)
            XCTAssert(message.contains("classifier.2.weight"), message)
            XCTAssert(message.contains("[7, 64]") && message.contains("[5, 64]"), message)
        }
        XCTAssert(zip(before, model.namedParameters().map { $0.parameter.value.scalars }).allSatisfy(==),
                  "a failed load must leave the model unchanged")
    }
}

