import XCTest
import CAMKit

/// The same photo, model and method give bit-identical maps: run after run, whatever the
/// thread count, and from one process to the next. The model is ConvNeXt V2 atto at 96 px,
/// big enough that OpenBLAS and our kernels really split their work over several threads.
final class DeterminismTests: XCTestCase {
    static let labels = (0..<7).map { "class\($0)" }
    static let recipe = Preprocessing(resizeShorterSide: 110, cropWidth: 96, cropHeight: 96, interpolation: .bilinear,
                                      mean: Preprocessing.imagenetMean, std: Preprocessing.imagenetStd)
    var savedThreads = 1

    override func setUp() { savedThreads = ComputeThreads.count }
    override func tearDown() { ComputeThreads.count = savedThreads }

    func attoModel() -> SeedModel {
        let model = SeedModel(.cnnMHA, backbone: .atto, numClasses: Self.labels.count)
        SeededWeights.fill(model)
        return model
    }

    func photo() -> RGBImage {
        var pixels = [UInt8]()
        for y in 0..<150 { for x in 0..<200 { pixels += [UInt8((x * 3 + y) % 256), UInt8((y * 5) % 256), UInt8((x * y) % 256)] } }
        return RGBImage(width: 200, height: 150, pixels: pixels)
    }

    /// Every float of the logits, the low-resolution map and the full-size map, as bit patterns.
    func fingerprint(_ e: Explanation) -> [UInt32] {
        (e.logits.scalars + e.lowResolutionMap.scalars + e.map.scalars).map(\.bitPattern)
    }

    func testMapsAreBitIdenticalAcrossRunsAndThreadCounts() throws {
        let model = ExplainableModel(name: "atto", model: attoModel(), labels: Self.labels, preprocessing: Self.recipe)
        // The other methods combine the same activations and gradients with other elementwise formulas.
        let methods: [CAMMethodName] = [.gradcam, .gradcamPlusPlus, .layercam, .eigencam]
        for method in methods {
            var reference: [UInt32]?
            for threads in [2, 1, 3, 2] {
                ComputeThreads.count = threads
                let explanation = try model.explain(photo(), options: ExplainOptions(method: method))
                let print = fingerprint(explanation)
                XCTAssert(explanation.map.scalars.contains { $0 > 0 }, "\(method): the map is empty, so the test would prove nothing")
                if let reference {
                    let differing = zip(reference, print).filter { $0 != $1 }.count
                    XCTAssertEqual(differing, 0, "\(method) with \(threads) threads: \(differing) of \(print.count) values differ from 2 threads")
                } else {
                    reference = print
                }
            }
        }
    }

    func testEigenSmoothingIsBitIdenticalAcrossThreadCounts() throws {
        let model = ExplainableModel(name: "atto", model: attoModel(), labels: Self.labels, preprocessing: Self.recipe)
        let options = ExplainOptions(method: .gradcam, eigenSmooth: true)
        ComputeThreads.count = 1
        let one = fingerprint(try model.explain(photo(), options: options))
        ComputeThreads.count = 2
        let two = fingerprint(try model.explain(photo(), options: options))
        XCTAssertEqual(one, two)
    }

    /// Separate processes (other addresses, other buffer alignment) with `CAMKIT_THREADS` 1 and 2
    /// and `--threads 3` write byte-identical `.npy` dumps.
    func testSeparateProcessesWriteIdenticalDumps() throws {
        let folder = try temporaryFolder("camkit-determinism")
        try Safetensors.write(StateDict(attoModel().namedParameters().map { ($0.name, $0.parameter.value) }), dtype: .f32,
                              to: folder.appendingPathComponent("atto.safetensors"))
        try Self.labels.joined(separator: "\n").write(to: folder.appendingPathComponent("labels.txt"), atomically: true, encoding: .utf8)
        try """
            {"models": [{"name": "atto", "architecture": "seed-cnn_mha", "backbone": "convnextv2_atto",
                         "weights": "atto.safetensors", "labels": "labels.txt",
                         "preprocessing": {"resize_shorter_side": 110, "crop": 96, "interpolation": "bilinear",
                                           "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]},
                         "licence": "test"}]}
            """.write(to: folder.appendingPathComponent("zoo.json"), atomically: true, encoding: .utf8)
        try photo().writePNG(to: folder.appendingPathComponent("photo.png"))

        let runs: [(name: String, arguments: [String], environment: [String: String])] = [
            ("one", [], ["CAMKIT_THREADS": "1"]), ("two", [], ["CAMKIT_THREADS": "2"]), ("three", ["--threads", "3"], [:]),
        ]
        var dumps: [String: [String: Data]] = [:]
        for run in runs {
            let result = try runExplain(["photo.png", "--zoo", "zoo.json", "--models", "atto", "--out", "out-\(run.name)",
                                         "--dump", "dump-\(run.name)"] + run.arguments, in: folder, environment: run.environment)
            XCTAssertEqual(result.status, 0, result.stderr)
            let dump = folder.appendingPathComponent("dump-\(run.name)")
            let files = try FileManager.default.contentsOfDirectory(atPath: dump.path).sorted()
            dumps[run.name] = try Dictionary(uniqueKeysWithValues: files.map { ($0, try Data(contentsOf: dump.appendingPathComponent($0))) })
        }
        let reference = try XCTUnwrap(dumps["one"])
        XCTAssertGreaterThanOrEqual(reference.count, 3, "expected input, logits and map dumps, got \(reference.keys.sorted())")
        for name in ["two", "three"] {
            XCTAssertEqual(dumps[name]?.keys.sorted(), reference.keys.sorted())
            for (file, bytes) in reference {
                XCTAssertEqual(dumps[name]?[file], bytes, "\(file) differs between CAMKIT_THREADS=1 and run '\(name)'")
            }
        }
    }
}
