import Foundation
import XCTest
import CAMKit

/// Every method and target kind against pytorch-grad-cam 1.5.7 on the committed fixtures of
/// `scripts/reference/make_cam_fixtures.py`: the final map and each layer's normalised
/// low-resolution map within 1e-3 (max-abs).
final class CAMParityTests: XCTestCase {
    struct Manifest: Decodable {
        let cases: [Case]
        struct Case: Decodable {
            let name: String
            let file: String
            let model: String
            let input_shape: [Int]
            let method: String
            let layers: [String]
            let target: Target
            let aug_smooth: Bool
            let eigen_smooth: Bool
        }
        struct Target: Decodable {
            let kind: String
            let classes: ClassList?
            let k: Int?
            let a: [Int]?
            let b: [Int]?
        }
        /// `[7, 101]` for "index", `[[2, 4, 1], [1, 3, 4]]` for "topk".
        enum ClassList: Decodable {
            case flat([Int]), nested([[Int]])
            init(from decoder: Decoder) throws {
                let c = try decoder.singleValueContainer()
                if let flat = try? c.decode([Int].self) { self = .flat(flat) } else { self = .nested(try c.decode([[Int]].self)) }
            }
        }
    }

    static let tolerance: Float = 1e-3

    static let manifest: Manifest = {
        let data = try! Data(contentsOf: fixtureURL("cam/manifest.json"))
        return try! JSONDecoder().decode(Manifest.self, from: data)
    }()

    static func method(named name: String) -> CAMMethod? {
        let all: [CAMMethod] = [GradCAM(), HiResCAM(), GradCAMPlusPlus(), XGradCAM(), LayerCAM(), EigenCAM(),
                                EigenGradCAM(), ScoreCAM(), AblationCAM()]
        return all.first { $0.name == name }
    }

    /// The seeded model a case names: a parity fixture's model, or the small test model.
    static func model(named name: String) throws -> SeedModel {
        let model: SeedModel
        if name == "small_cnn" {
            let config = ConvNeXtV2Config(name: "small", depths: [1, 1, 2, 1], dims: [8, 16, 32, 64], convMLP: false)
            model = SeedModel(.cnn, backbone: config, numClasses: 5)
        } else {
            let entry = try XCTUnwrap(ParityTests.manifest.fixtures.first { $0.name == name }, "model \(name)")
            let config = try XCTUnwrap(ConvNeXtV2Config.named(entry.backbone))
            let variant = try XCTUnwrap(SeedVariant(rawValue: entry.variant))
            let mode = try XCTUnwrap(SeedAttentionMode(rawValue: entry.attention ?? "original"))
            model = SeedModel(variant, backbone: config, numClasses: entry.num_classes, attention: mode)
        }
        SeededWeights.fill(model)
        return model
    }

    /// The targets of a case, one per image, and how many maps each image gets.
    static func targets(_ target: Manifest.Target, images: Int) throws -> [CAMTarget] {
        switch (target.kind, target.classes) {
        case ("top1", _): return Array(repeating: .topPrediction, count: images)
        case ("index", .flat(let classes)?): return classes.map { .classIndex($0) }
        case ("topk", _): return Array(repeating: .topK(try XCTUnwrap(target.k)), count: images)
        case ("contrast", _):
            return zip(try XCTUnwrap(target.a), try XCTUnwrap(target.b)).map { .contrast($0, $1) }
        default: throw XCTSkip("unknown target kind \(target.kind)")
        }
    }

    /// Runs one case; returns the failures (empty when it matches) and the largest differences.
    func run(_ c: Manifest.Case) throws -> (failures: [String], maxDiff: Float) {
        let model = try Self.model(named: c.model)
        let method = try XCTUnwrap(Self.method(named: c.method), "method \(c.method)")
        let extractor = try CAMExtractor(model: model, method: method, layers: c.layers)
        let input = SeededWeights.input(shape: c.input_shape)
        let result = try extractor.explain(input, targets: Self.targets(c.target, images: c.input_shape[0]),
                                           augSmooth: c.aug_smooth, eigenSmooth: c.eigen_smooth)
        let expected = try Safetensors.read(contentsOf: fixtureURL("cam/\(c.file)"))
        var failures: [String] = []
        var worst: Float = 0
        func compare(_ actual: Tensor?, _ reference: Tensor?, _ what: String) {
            guard let actual, let reference, actual.shape == reference.shape else {
                failures.append("\(what): shape \(actual?.shape ?? []) vs \(reference?.shape ?? [])")
                return
            }
            let diff = zip(actual.scalars, reference.scalars).map { abs($0 - $1) }.max() ?? 0
            worst = max(worst, diff)
            if !(diff <= Self.tolerance) { failures.append("\(what): max |diff| \(diff)") }
        }
        compare(result.logits, expected["logits"], "logits")
        if case .nested(let classes)? = c.target.classes {
            let resolved = result.explanations.map { $0.map(\.target.classIndex) }
            if resolved != classes { failures.append("top-k classes \(resolved) vs \(classes)") }
        }
        let k = result.explanations[0].count
        let stackedOnAxis1 = c.target.kind == "topk"
        compare(stack(result, k: k, stackedOnAxis1) { r, t in r.maps(target: t) }, expected["cam"], "cam")
        for layer in c.layers {
            guard let reference = expected["lowres.\(layer)"] else { continue }
            compare(stack(result, k: k, stackedOnAxis1) { r, t in r.lowResolutionMaps(layer: layer, target: t)! }, reference, "lowres \(layer)")
        }
        return (failures, worst)
    }

    /// The maps as the reference stores them: (N, H, W), or (N, K, H, W) for top-k.
    func stack(_ result: CAMResult, k: Int, _ axis1: Bool, _ maps: (CAMResult, Int) -> Tensor) -> Tensor {
        guard axis1 else { return maps(result, 0) }
        let perTarget = (0..<k).map { maps(result, $0) }
        let (n, rest) = (perTarget[0].shape[0], Array(perTarget[0].shape.dropFirst()))
        let size = rest.product
        var scalars: [Float] = []
        for i in 0..<n { for t in 0..<k { scalars += perTarget[t].scalars[i * size ..< (i + 1) * size] } }
        return Tensor(shape: [n, k] + rest, scalars: scalars)
    }

    func testEveryCaseMatchesTheReference() throws {
        var report: [String] = []
        for c in Self.manifest.cases {
            do {
                let (failures, worst) = try run(c)
                print("CAM parity \(c.name): max |diff| \(worst)")
                report += failures.map { "\(c.name): \($0)" }
            } catch {
                report.append("\(c.name): \(error)")
            }
        }
        XCTAssert(report.isEmpty, "cases differing from pytorch-grad-cam:\n" + report.joined(separator: "\n"))
    }

    /// The fixtures cover every method, every target kind and both smoothings.
    func testEveryMethodAndTargetKindIsCovered() {
        let cases = Self.manifest.cases
        XCTAssertEqual(Set(cases.map(\.method)),
                       ["gradcam", "hirescam", "gradcam++", "xgradcam", "layercam", "eigencam", "eigengradcam", "scorecam", "ablationcam"])
        XCTAssertEqual(Set(cases.map(\.target.kind)), ["top1", "index", "topk", "contrast"])
        XCTAssert(cases.contains { $0.aug_smooth } && cases.contains { $0.eigen_smooth })
        XCTAssert(cases.contains { $0.layers.count > 1 })
        for variant in ["cnn", "cnn_mha", "hybrid"] {
            XCTAssert(cases.contains { $0.model.hasSuffix("_" + variant) }, "no case on the \(variant) variant")
        }
    }
}
