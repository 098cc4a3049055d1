import XCTest
import CAMKit

/// The Keras HDF5 reader on the small files of scripts/reference/make_keras_fixtures.py, so it
/// is tested without the downloaded model: both string encodings Keras uses for names, every
/// layout conversion, and a nested model.
final class KerasHDF5Tests: XCTestCase {
    /// Element k of a fixture weight, as the script writes it: `0.25 k - i` for the layer's i-th weight.
    private func stored(_ k: Int, weight i: Int) -> Float { 0.25 * Float(k) - Float(i) }

    /// Keras 2 writes names as null-padded fixed-length strings; the longest fills every byte.
    func testFixedLengthNamesAndLayouts() throws {
        let dict = try KerasHDF5.read(contentsOf: fixtureURL("weights/keras_model.h5"), nestedPrefixes: ["inner": "backbone"])
        XCTAssertEqual(dict.keys, ["conv.weight", "conv.bias", "dw.weight", "bn.weight", "bn.bias", "bn.running_mean",
                                   "bn.running_var", "dense.weight", "dense.bias", "backbone.inner_conv.weight"])
        // Conv2D (kh, kw, in, out) = (1, 1, 2, 2) → (out, in, kh, kw): element [o, i] is Keras [i, o].
        XCTAssertEqual(dict["conv.weight"]?.shape, [2, 2, 1, 1])
        XCTAssertEqual(dict["conv.weight"]?.scalars, [stored(0, weight: 0), stored(2, weight: 0), stored(1, weight: 0), stored(3, weight: 0)])
        XCTAssertEqual(dict["conv.bias"]?.scalars, [stored(0, weight: 1), stored(1, weight: 1)])
        // DepthwiseConv2D (3, 3, 2, 1) → (2, 1, 3, 3): channel c's 3×3 kernel is every second element.
        XCTAssertEqual(dict["dw.weight"]?.shape, [2, 1, 3, 3])
        XCTAssertEqual(dict["dw.weight"]?.scalars, (0..<9).map { stored(2 * $0, weight: 0) } + (0..<9).map { stored(2 * $0 + 1, weight: 0) })
        XCTAssertEqual(dict["bn.running_var"]?.scalars, [stored(0, weight: 3), stored(1, weight: 3)])
        // Dense (in, out) = (2, 3) → (out, in).
        XCTAssertEqual(dict["dense.weight"]?.shape, [3, 2])
        XCTAssertEqual(dict["dense.weight"]?.scalars, [0, 3, 1, 4, 2, 5].map { stored($0, weight: 0) })
        XCTAssertEqual(dict["backbone.inner_conv.weight"]?.scalars, [1, 1, 1, 1])

        let classes = try KerasHDF5.layerClasses(contentsOf: fixtureURL("weights/keras_model.h5"))
        XCTAssertEqual(classes.map(\.name), ["model", "conv", "dw", "bn", "pool", "dense", "inner", "inner_conv"])
        XCTAssertEqual(classes.first { $0.name == "inner" }?.className, "Functional")
    }

    /// Keras 3 and `save_weights` files: `layer_names` on the root, variable-length strings.
    func testWeightsOnlyFileWithVariableLengthNames() throws {
        let dict = try KerasHDF5.read(contentsOf: fixtureURL("weights/keras_weights_only.h5"))
        XCTAssertEqual(dict.keys, ["conv.weight", "conv.bias", "dw.weight"])
        XCTAssertEqual(dict["conv.weight"]?.scalars, [stored(0, weight: 0), stored(2, weight: 0), stored(1, weight: 0), stored(3, weight: 0)])
    }
}
