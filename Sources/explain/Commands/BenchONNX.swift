import ArgumentParser
import CAMKit
import Foundation

/// Times an imported model as `scripts/reference/bench_onnx.py` times torch, pytorch-grad-cam
/// and onnxruntime on the same file: seeded input of the declared size, batch 1.
struct BenchONNX: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-onnx",
        abstract: "Time forward and Grad-CAM (top-1, default layer) of an ONNX model.",
        discussion: "scripts/reference/bench_onnx.py runs it beside the Python references.")

    @Argument(help: "An .onnx file whose input size is fixed.")
    var model: String

    @Option(help: "Layer for Grad-CAM (default: the model's default layer).")
    var layer: String?

    @Option(help: "Timed runs per measurement (after 2 warm-up runs).")
    var repeats = 10

    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    @Flag(help: "Also print the forward time per op kind and the GEMMs' rate against sgemm.")
    var profile = false

    func run() throws {
        guard repeats > 0 else { throw ValidationError("need --repeats ≥ 1") }
        let url = URL(fileURLWithPath: model)
        let graphModel = try GraphModel.onnx(contentsOf: url)
        let input = SeededWeights.input(shape: graphModel.inputShape)
        let chosen = layer ?? graphModel.defaultTargetLayer
        let extractor = try CAMExtractor(module: graphModel, method: GradCAM(), layers: [chosen])
        let forward = try timedRuns(repeats) { _ = graphModel(input) }
        let gradcam = try timedRuns(repeats) { _ = try extractor.explain(input) }
        let name = url.deletingPathExtension().lastPathComponent
        if profile { printProfile(try graphModel.source.graph(forInputShape: input.shape), input: input, repeats: repeats) }
        if json {
            print(#"{"impl":"swift","model":"\#(name)","layer":"\#(chosen)","forward_ms":\#(String(format: "%.2f", median(forward))),"#
                + #""gradcam_ms":\#(String(format: "%.2f", median(gradcam))),"forward_min_ms":\#(String(format: "%.2f", forward.min()!)),"#
                + #""gradcam_min_ms":\#(String(format: "%.2f", gradcam.min()!)),"peak_rss_mib":\#(String(format: "%.1f", Double(peakResidentBytes()) / 1_048_576))}"#)
        } else {
            print("\(name) at layer \(chosen), input \(graphModel.inputShape)")
            print(String(format: "forward   median %8.1f ms   min %8.1f ms", median(forward), forward.min()!))
            print(String(format: "gradcam   median %8.1f ms   min %8.1f ms", median(gradcam), gradcam.min()!))
        }
    }
}

/// Milliseconds of `repeats` runs of `body`, after two warm-up runs.
func timedRuns(_ repeats: Int, _ body: () throws -> Void) throws -> [Double] {
    for _ in 0..<2 { try body() }
    return try (0..<repeats).map { _ in
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
    }
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
