import Foundation
import XCTest
@testable import CAMKit

/// The methods added to the first nine, against pytorch-grad-cam 1.5.7 on the committed
/// fixtures of `scripts/reference/make_method_fixtures.py`: final maps within 1e-3 (max-abs).
final class CAMMethodParityTests: XCTestCase {
    struct Manifest: Decodable {
        let cases: [Case]
        struct Case: Decodable {
            let name: String
            let file: String
            let model: String?
            let method: String
            let layers: [String]?
            let input_shape: [Int]?
            let options: Options?
        }
        struct Options: Decodable {
            let target_idx: Int?
            let ranks: [Int]?
            let alpha: Float?
        }
    }

    static let tolerance: Float = 1e-3

    static let manifest: Manifest = {
        let data = try! Data(contentsOf: fixtureURL("cam-methods/manifest.json"))
        return try! JSONDecoder().decode(Manifest.self, from: data)
    }()

    static func model(named name: String) throws -> SeedModel {
        let config = ConvNeXtV2Config(name: "small", depths: [1, 1, 2, 1], dims: [8, 16, 32, 64], convMLP: false)
        let variant: SeedVariant = name == "small_hybrid" ? .hybrid : .cnn
        let model = SeedModel(variant, backbone: config, numClasses: 5)
        SeededWeights.fill(model)
        return model
    }

    static func method(_ c: Manifest.Case) -> CAMMethod? {
        switch c.method {
        case "finercam": FinerCAM(comparisonRanks: c.options?.ranks ?? [1, 2, 3], alpha: c.options?.alpha ?? 1)
        case "gradcamelementwise": GradCAMElementWise()
        case "kpcacam": KPCACAM()
        case "fem": FEM()
        case "randomcam": RandomCAM(seed: 0)
        case "fullgrad": FullGrad()
        case "guidedbackprop": GuidedBackprop()
        case "refinecam": RefineCAM()
        case "sess": SESS()
        case "shapleycam": ShapleyCAM()
        default: nil
        }
    }

    func maxDiff(_ a: Tensor, _ b: Tensor?) -> Float {
        guard let b, a.shape == b.shape else { return .infinity }
        return zip(a.scalars, b.scalars).map { abs($0 - $1) }.max() ?? 0
    }

    func run(_ c: Manifest.Case) throws -> Float {
        let expected = try Safetensors.read(contentsOf: fixtureURL("cam-methods/\(c.file)"))
        if c.method == "sobelcam" {
            let image = try XCTUnwrap(expected["image"])
            let photo = RGBImage(width: image.shape[1], height: image.shape[0], pixels: image.scalars.map { UInt8($0) })
            let map = SobelCAM.map(of: photo)
            return maxDiff(Tensor(shape: [photo.height, photo.width], scalars: map.map(Float.init)), expected["cam"])
        }
        let model = try Self.model(named: try XCTUnwrap(c.model))
        let input = SeededWeights.input(shape: try XCTUnwrap(c.input_shape))
        let logits = model(input)
        var worst = maxDiff(logits, expected["logits"])
        if c.method == "guidedbackprop" {
            let targets = logits.argmaxRows().map { TargetScore($0) }
            let gradients = try GuidedBackprop.gradients(model: model, input: input, targets: targets)
            // The gradients are small (~1e-2): compared relative to their largest magnitude.
            let reference = try XCTUnwrap(expected["cam"])
            let scale = reference.scalars.map(abs).max() ?? 1
            return max(worst, maxDiff(gradients, reference) / scale)
        }
        let method = try XCTUnwrap(Self.method(c), "method \(c.method)")
        let layers = c.layers?.isEmpty == false ? c.layers! : [model.defaultTargetLayer]
        let extractor = try CAMExtractor(model: model, method: method, layers: layers)
        let target: CAMTarget = c.options?.target_idx.map { .classIndex($0) } ?? .topPrediction
        let result = try extractor.explain(input, target: target)
        worst = max(worst, maxDiff(result.maps(), expected["cam"]))
        return worst
    }

    func testEveryCaseMatchesTheReference() throws {
        var failures: [String] = []
        for c in Self.manifest.cases {
            do {
                let worst = try run(c)
                print("method parity \(c.name): max |diff| \(worst)")
                if !(worst <= Self.tolerance) { failures.append("\(c.name): max |diff| \(worst)") }
            } catch {
                failures.append("\(c.name): \(error)")
            }
        }
        XCTAssert(failures.isEmpty, "cases differing from pytorch-grad-cam:\n" + failures.joined(separator: "\n"))
    }

    /// Every new method with a reference counterpart has a case.
    func testEveryNewMethodIsCovered() {
        XCTAssertEqual(Set(Self.manifest.cases.map(\.method)),
                       ["finercam", "gradcamelementwise", "kpcacam", "fem", "randomcam", "fullgrad", "guidedbackprop",
                        "refinecam", "sess", "sobelcam", "shapleycam"])
    }
}
