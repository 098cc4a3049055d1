import ArgumentParser
import CAMKit
import Foundation

/// Times each CAM method on one seed variant, as `scripts/reference/bench_cam_torch.py` times
/// pytorch-grad-cam: seeded weights and input, top-1 target, default layer; or on a pretrained
/// zoo model, at any layer.
struct BenchCAM: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-cam",
        abstract: "Time every CAM method on a seed variant (random weights, top-1 target) or a zoo model.",
        discussion: """
            Compare with scripts/reference/bench_cam_torch.py run right before or after on the same machine.
            "first ms" is the first run: for Ablation-CAM on a native model it includes tracing the model into a graph.
            """)

    static let methods: [CAMMethod] = [GradCAM(), HiResCAM(), GradCAMPlusPlus(), XGradCAM(), LayerCAM(), EigenCAM(),
                                       EigenGradCAM(), ScoreCAM(), AblationCAM()]

    @Option(help: "ConvNeXt V2 size of the backbone (atto … huge).")
    var size = "base"

    @Option(help: "Seed variant: cnn, cnn_mha, hybrid.")
    var variant = "cnn"

    @Option(help: "Comma-separated methods (default: all).")
    var methods = BenchCAM.methods.map(\.name).joined(separator: ",")

    @Option(help: "Input height and width.")
    var resolution = 224

    @Option(help: "Timed runs of the fast methods (after 1 warm-up run).")
    var repeats = 5

    @Option(help: "Timed runs of Score-CAM and Ablation-CAM (no warm-up; each is ~1000 forward passes).")
    var slowRepeats = 1

    @Option(help: "Time a pretrained zoo model instead (efficientnet-lite0, mobilenetv2-dogs19) at its input size; needs `make models`.")
    var model: String?

    @Option(help: "Target layer (default: the model's).")
    var layer: String?

    @Option(help: "With --model: explain this photo, preprocessed as the model wants, instead of a seeded input (Score-CAM's time depends on the photo: all-zero masks share one pass).")
    var image: String?

    func run() throws {
        let chosen = try methods.split(separator: ",").map { name in
            guard let method = Self.methods.first(where: { $0.name == name }) else {
                throw ValidationError("unknown method '\(name)'; methods: \(Self.methods.map(\.name).joined(separator: ", "))")
            }
            return method
        }
        guard repeats > 0, slowRepeats > 0 else { throw ValidationError("need --repeats ≥ 1 and --slow-repeats ≥ 1") }
        guard image == nil || model != nil else { throw ValidationError("--image needs --model") }
        let (model, input) = try modelAndInput()
        let layers = layer.map { [$0] } ?? [model.defaultTargetLayer]
        print("method          median ms     min ms   first ms  runs")
        for method in chosen {
            let extractor = try CAMExtractor(model: model, method: method, layers: layers)
            let slow = method is ScoreCAM || method is AblationCAM
            if !slow { _ = try extractor.explain(input) }
            let runs = try (0..<(slow ? slowRepeats : repeats)).map { _ in
                let start = DispatchTime.now().uptimeNanoseconds
                _ = try extractor.explain(input)
                return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            }
            let times = runs.sorted()
            print(method.name.padding(toLength: 14, withPad: " ", startingAt: 0)
                + String(format: " %10.1f %10.1f %10.1f  %4d", times[times.count / 2], times[0], runs[0], times.count))
        }
    }

    /// The zoo model with a seeded input of its size, or the seeded seed variant.
    private func modelAndInput() throws -> (Module & Classifier, Tensor) {
        if let model {
            guard let entry = ModelZoo.entry(named: model) else {
                throw ValidationError("unknown model '\(model)'; models: \(ModelZoo.entries.map(\.name).joined(separator: ", "))")
            }
            let p = entry.preprocessing
            if let image {
                return (try entry.load(), p.tensor(from: try ImageDecoder().decode(contentsOf: URL(fileURLWithPath: image))))
            }
            return (try entry.load(), SeededWeights.input(shape: [1, 3, p.cropHeight, p.cropWidth]))
        }
        guard let config = ConvNeXtV2Config.named(size) else {
            throw ValidationError("unknown size '\(size)'; sizes: \(ConvNeXtV2Config.all.map(\.name).joined(separator: ", "))")
        }
        guard let seedVariant = SeedVariant(rawValue: variant) else {
            throw ValidationError("unknown variant '\(variant)'; variants: cnn, cnn_mha, hybrid")
        }
        let seed = SeedModel(seedVariant, backbone: config)
        SeededWeights.fill(seed)
        return (seed, SeededWeights.input(shape: [1, 3, resolution, resolution]))
    }
}
