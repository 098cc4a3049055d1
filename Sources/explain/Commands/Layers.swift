import ArgumentParser
import CAMKit
import Foundation

/// Lists a model's named modules: the names `--layer` accepts.
struct Layers: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List a model's layers (the names --layer accepts) with their output shapes.",
        discussion: "Shapes come from one forward pass of a zero input of the model's crop size; the weights are not needed.")

    @Argument(help: "A model name (see `explain models`) or an .onnx file.")
    var model: String

    @OptionGroup var catalog: CatalogOption

    @Argument(parsing: .postTerminator, help: "After --, options of an .onnx file: --labels, --preprocessing, --prefix-tokens, --grid, --channels-last.")
    var file: [String] = []

    func run() throws {
        let descriptor = model.hasSuffix(".onnx")
            ? try ModelFileOption.parse(["--model", model] + file).descriptor()!
            : try catalog.catalog().descriptor(named: model)
        if descriptor.architecture == "onnx" { return try listGraphLayers(try descriptor.load()) }
        for layer in try descriptor.layers() {
            let shape = layer.outputShape.map { "\($0)" } ?? "-"
            let mark = layer.name == descriptor.defaultLayer ? "   ← default Grad-CAM layer" : ""
            print(layer.name.padding(toLength: 44, withPad: " ", startingAt: 0)
                + layer.type.padding(toLength: 20, withPad: " ", startingAt: 0) + shape + mark)
        }
    }

    /// An imported model's layers: the module paths the file records (or, where it records
    /// none, its values), with shapes, how each is read as a map, and the default.
    private func listGraphLayers(_ loaded: ExplainableModel) throws {
        guard let graph = loaded.model as? GraphModel else { return }
        let listed = graph.listedLayers
        for layer in listed {
            let mark = layer.name == loaded.defaultLayer ? "   ← default Grad-CAM layer" : ""
            let kind = layer.layout == .spatial ? "" : "  \(layer.layout)"
            print(layer.name.padding(toLength: 44, withPad: " ", startingAt: 0)
                + "\(layer.shape)".padding(toLength: 20, withPad: " ", startingAt: 0) + kind + mark
                + (layer.note.map { "  (\($0))" } ?? ""))
        }
        print("\(listed.count) layers listed; --layer also takes any value name of the graph (\(graph.layers.count) in all).")
    }
}
