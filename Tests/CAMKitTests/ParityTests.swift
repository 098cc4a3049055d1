import Foundation
import XCTest
import CAMKit

/// Swift against PyTorch on the committed fixtures of `scripts/reference/make_parity_fixtures.py`:
/// seeded-weight ConvNeXt V2 models (atto with 1×1-conv MLPs, tiny with Linear MLPs) in all
/// three seed variants, their logits, the `backbone.stages.3` activation and the gradient of
/// `logits[0, t0] + logits[1, t1]` there.
final class ParityTests: XCTestCase {
    struct Manifest: Decodable {
        let fixtures: [Entry]
        struct Entry: Decodable {
            let name: String
            let file: String
            let keys_file: String
            let backbone: String
            let variant: String
            let num_classes: Int
            let attention: String?
            let input_shape: [Int]
            let targets: [Int]
        }
    }

    struct KeyList: Decodable {
        let keys: [Key]
        struct Key: Decodable { let key: String; let shape: [Int] }
    }

    static let manifest: Manifest = {
        let data = try! Data(contentsOf: fixtureURL("parity/manifest.json"))
        return try! JSONDecoder().decode(Manifest.self, from: data)
    }()

    /// The model of a fixture, with the layer whose activation the fixture records.
    func model(for entry: Manifest.Entry) throws -> (Module & Classifier, prefix: String) {
        let config = try XCTUnwrap(ConvNeXtV2Config.named(entry.backbone), entry.backbone)
        switch entry.variant {
        case "backbone", "timm_head":
            return (ConvNeXtV2(config, numClasses: entry.num_classes), "")
        default:
            let variant = try XCTUnwrap(SeedVariant(rawValue: entry.variant), entry.variant)
            let mode = try XCTUnwrap(SeedAttentionMode(rawValue: entry.attention ?? "original"))
            return (SeedModel(variant, backbone: config, numClasses: entry.num_classes, attention: mode), "backbone.")
        }
    }

    func check(_ name: String) throws {
        let entry = try XCTUnwrap(Self.manifest.fixtures.first { $0.name == name }, "fixture \(name) not in the manifest")
        let (model, prefix) = try model(for: entry)

        // The module tree yields exactly PyTorch's state-dict keys, in PyTorch's order.
        let keyList = try JSONDecoder().decode(KeyList.self, from: Data(contentsOf: fixtureURL("parity/\(entry.keys_file)")))
        let torchKeys = keyList.keys.map(\.key).filter { !$0.hasSuffix("num_batches_tracked") }
        XCTAssertEqual(model.namedParameters().map(\.name), torchKeys, "\(name): state-dict keys")

        SeededWeights.fill(model)
        let expected = try Safetensors.read(contentsOf: fixtureURL("parity/\(entry.file)"))
        let layer = prefix + "stages.3"
        var recorded: [String: Tensor] = [:]
        var handles = [HookHandle]()
        for (suffix, key) in [("attention", "attention_out"), ("morphological_extractor", "mfe_out"), ("feature_fusion", "fusion_out"), ("backbone", "features")] {
            if let module = model.module(named: suffix) {
                handles.append(module.registerForwardHook { recorded[key] = $0 })
            }
        }
        defer { handles.forEach { $0() } }

        let capture = try LayerCapture(model: model, layers: [layer])
        let input = SeededWeights.input(shape: entry.input_shape)
        let output = try capture.run(model, input) { $0.oneHotSeed(classes: entry.targets) }

        let outputKey = entry.num_classes == 0 ? "features" : "logits"
        assertClose(output, expected[outputKey], tolerance: 1e-4, floor: 1e-5, "\(name) \(outputKey)")
        assertClose(capture.activations[layer], expected["stages3"], tolerance: 1e-4, floor: 1e-5, "\(name) stages.3 activation")
        assertClose(capture.gradients[layer], expected["grad_stages3"], tolerance: 1e-3, "\(name) stages.3 gradient")
        for (key, tensor) in recorded {
            assertClose(tensor, expected[key], tolerance: 1e-4, floor: 1e-5, "\(name) \(key)")
        }
    }

    func testAttoCNN() throws { try check("atto_cnn") }
    func testAttoCNNMHA() throws { try check("atto_cnn_mha") }
    func testAttoHybrid() throws { try check("atto_hybrid") }
    func testAttoCNNMHAIntended() throws { try check("atto_cnn_mha_intended") }
    func testAttoHybridIntended() throws { try check("atto_hybrid_intended") }
    func testTinyCNN() throws { try check("tiny_cnn") }
    func testTinyCNNMHA() throws { try check("tiny_cnn_mha") }
    func testTinyHybrid() throws { try check("tiny_hybrid") }
    func testAttoWithTimmHead() throws { try check("atto_timm_head") }
    func testAttoBackboneOnly() throws { try check("atto_backbone") }

    /// Every fixture in the manifest has a test above.
    func testEveryFixtureIsCovered() {
        let covered: Set = ["atto_cnn", "atto_cnn_mha", "atto_hybrid", "atto_cnn_mha_intended", "atto_hybrid_intended",
                            "tiny_cnn", "tiny_cnn_mha", "tiny_hybrid", "atto_timm_head", "atto_backbone"]
        XCTAssertEqual(Set(Self.manifest.fixtures.map(\.name)), covered)
    }
}
