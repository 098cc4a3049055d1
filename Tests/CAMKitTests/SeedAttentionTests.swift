import XCTest
import CAMKit

/// The seed's original attention sums over k and over v separately, so query and key do not
/// reach the output; the intended attention uses them.
final class SeedAttentionTests: XCTestCase {
    /// A small backbone whose 256 features give four attention heads of 64.
    let config = ConvNeXtV2Config(name: "test", depths: [1, 1, 1, 1], dims: [8, 16, 32, 256], convMLP: true)
    let layers = ["attention.query", "attention.key", "attention.value"]

    func gradientScales(_ mode: SeedAttentionMode) throws -> [String: Float] {
        let model = SeedModel(.cnnMHA, backbone: config, numClasses: 6, attention: mode)
        SeededWeights.fill(model)
        let capture = try LayerCapture(model: model, layers: layers)
        try capture.run(model, SeededWeights.input(shape: [2, 3, 64, 64])) { $0.oneHotSeed(classes: [2, 5]) }
        return try layers.reduce(into: [:]) { scales, layer in
            scales[layer] = try XCTUnwrap(capture.gradients[layer]).scalars.map(abs).max()
        }
    }

    func testOriginalAttentionGivesQueryAndKeyNoGradient() throws {
        let g = try gradientScales(.original)
        let value = try XCTUnwrap(g["attention.value"])
        XCTAssertGreaterThan(value, 1e-4)
        // Zero up to the rounding of a softmax row summing to 1.
        XCTAssertLessThanOrEqual(try XCTUnwrap(g["attention.query"]), 1e-5 * value)
        XCTAssertLessThanOrEqual(try XCTUnwrap(g["attention.key"]), 1e-5 * value)
    }

    func testIntendedAttentionUsesQueryAndKey() throws {
        let g = try gradientScales(.intended)
        let value = try XCTUnwrap(g["attention.value"])
        XCTAssertGreaterThan(try XCTUnwrap(g["attention.query"]), 1e-3 * value)
        XCTAssertGreaterThan(try XCTUnwrap(g["attention.key"]), 1e-3 * value)
    }

    func testOriginalOutputDoesNotDependOnQueryWeights() throws {
        let model = SeedModel(.cnnMHA, backbone: config, numClasses: 6)
        SeededWeights.fill(model)
        let input = SeededWeights.input(shape: [1, 3, 64, 64])
        let before = model(input)
        let query = try XCTUnwrap(model.namedParameters().first { $0.name == "attention.query.weight" }).parameter
        query.value = Tensor(shape: query.shape, scalars: query.value.scalars.map { $0 * -3 + 0.5 })
        assertClose(model(input), before, tolerance: 1e-6, floor: 1e-6, "logits after changing the query weights")
    }
}
