import ArgumentParser
import CAMKit
import Foundation

/// Times forward and forward + gradient to the default CAM layer of the seed variants.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time forward and forward+gradient of the seed variants (random weights).",
        discussion: "Compare with scripts/reference/bench_torch.py run on the same machine.")

    @Option(help: "ConvNeXt V2 size of the backbone (atto … huge).")
    var size = "base"

    @Option(help: "Comma-separated variants: cnn, cnn_mha, hybrid.")
    var variants = "cnn,cnn_mha,hybrid"

    @Option(help: "Input height and width.")
    var resolution = 224

    @Option(help: "Timed runs per measurement (after 2 warm-up runs).")
    var repeats = 10

    @Flag(help: "Print one JSON object per measurement instead of a table.")
    var json = false

    @Flag(help: "Also print the forward time per op kind and the GEMMs' rate against sgemm (of the model traced into graph form).")
    var profile = false

    @Option(help: "Time a pretrained zoo model instead (efficientnet-lite0, mobilenetv2-dogs19) at its input size; needs `make models`.")
    var model: String?

    @Option(help: "Batch size of the zoo model's input (Score-CAM runs batches of 16).")
    var batch = 1

    func run() throws {
        if let model { return try runZoo(model) }
        guard let config = ConvNeXtV2Config.named(size) else {
            throw ValidationError("unknown size '\(size)'; sizes: \(ConvNeXtV2Config.all.map(\.name).joined(separator: ", "))")
        }
        let chosen = try variants.split(separator: ",").map { name in
            guard let v = SeedVariant(rawValue: String(name)) else {
                throw ValidationError("unknown variant '\(name)'; variants: cnn, cnn_mha, hybrid")
            }
            return v
        }
        guard repeats > 0, resolution >= 32 else { throw ValidationError("need --repeats ≥ 1 and --resolution ≥ 32") }
        let input = SeededWeights.input(shape: [1, 3, resolution, resolution])
        if !json { print("variant   measurement        median ms   min ms   peak RSS MiB") }
        for variant in chosen {
            let model = SeedModel(variant, backbone: config)
            SeededWeights.fill(model)
            let forward = try timedRuns(repeats) { _ = model(input) }
            report(variant, "forward", forward)
            let capture = try LayerCapture(model: model, layers: [model.defaultTargetLayer])
            let gradient = try timedRuns(repeats) {
                try capture.run(model, input) { $0.oneHotSeed(classes: $0.argmaxRows()) }
            }
            report(variant, "forward+gradient", gradient)
            if profile { try printTracedProfile(model, input) }
        }
    }

    private func printTracedProfile(_ model: Module, _ input: Tensor) throws {
        let graph = try TracedGraphSource.trace(model, input: input).graph
        print("profile of one forward pass:")
        printProfile(graph, input: input, repeats: repeats)
        print("profile of one plain pass, fused for inference (Score-CAM's, the metrics'):")
        printProfile(graph.fusedForInference(), input: input, repeats: repeats)
    }

    /// Forward, and forward + gradient of the top-1 logit at the default layer, of a zoo model.
    private func runZoo(_ name: String) throws {
        guard let entry = ModelZoo.entry(named: name) else {
            throw ValidationError("unknown model '\(name)'; models: \(ModelZoo.entries.map(\.name).joined(separator: ", "))")
        }
        guard repeats > 0, batch > 0 else { throw ValidationError("need --repeats ≥ 1 and --batch ≥ 1") }
        let model = try entry.load()
        let p = entry.preprocessing
        let input = SeededWeights.input(shape: [batch, 3, p.cropHeight, p.cropWidth])
        if !json { print("model               measurement        median ms   min ms   peak RSS MiB") }
        let forward = try timedRuns(repeats) { _ = model(input) }
        reportZoo(entry, "forward", forward)
        let plain = try timedRuns(repeats) { _ = model.inferenceOutput(input) }
        reportZoo(entry, "forward fused", plain)
        let capture = try LayerCapture(model: model, layers: [model.defaultTargetLayer])
        let gradient = try timedRuns(repeats) {
            try capture.run(model, input) { $0.oneHotSeed(classes: $0.argmaxRows()) }
        }
        reportZoo(entry, "forward+gradient", gradient)
        if profile { try printTracedProfile(model, input) }
    }

    private func reportZoo(_ entry: ZooEntry, _ what: String, _ ms: [Double]) {
        let sorted = ms.sorted()
        let median = sorted[sorted.count / 2], minimum = sorted[0]
        let rss = Double(peakResidentBytes()) / 1_048_576
        if json {
            print(#"{"impl":"swift","model":"\#(entry.name)","measurement":"\#(what)","#
                + #""median_ms":\#(String(format: "%.2f", median)),"min_ms":\#(String(format: "%.2f", minimum)),"peak_rss_mib":\#(String(format: "%.1f", rss))}"#)
        } else {
            print(entry.name.padding(toLength: 20, withPad: " ", startingAt: 0)
                + what.padding(toLength: 19, withPad: " ", startingAt: 0)
                + String(format: "%9.1f %8.1f %14.1f", median, minimum, rss))
        }
    }

    private func report(_ variant: SeedVariant, _ what: String, _ ms: [Double]) {
        let sorted = ms.sorted()
        let median = sorted[sorted.count / 2], minimum = sorted[0]
        let rss = Double(peakResidentBytes()) / 1_048_576
        if json {
            print(#"{"impl":"swift","size":"\#(size)","variant":"\#(variant.rawValue)","measurement":"\#(what)","#
                + #""median_ms":\#(String(format: "%.2f", median)),"min_ms":\#(String(format: "%.2f", minimum)),"peak_rss_mib":\#(String(format: "%.1f", rss))}"#)
        } else {
            print(variant.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)
                + what.padding(toLength: 19, withPad: " ", startingAt: 0)
                + String(format: "%9.1f %8.1f %14.1f", median, minimum, rss))
        }
    }
}

/// Peak resident set size of this process so far.
func peakResidentBytes() -> Int {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return usage.ru_maxrss * 1024
}
