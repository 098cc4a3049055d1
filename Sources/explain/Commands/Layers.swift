import ArgumentParser
import CAMKit
import Foundation

/// Lists a model's named modules: the names `--layer` accepts.
struct Layers: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List a model's layers (the names --layer accepts) with their output shapes.",
        discussion: "Shapes come from one forward pass of a zero input of the model's crop size; the weights are not needed.")

    @Argument(help: "A model name (see `explain models`).")
    var model: String

    @OptionGroup var catalog: CatalogOption

    func run() throws {
        let descriptor = try catalog.catalog().descriptor(named: model)
        for layer in try descriptor.layers() {
            let shape = layer.outputShape.map { "\($0)" } ?? "-"
            let mark = layer.name == descriptor.defaultLayer ? "   ← default Grad-CAM layer" : ""
            print(layer.name.padding(toLength: 44, withPad: " ", startingAt: 0)
                + layer.type.padding(toLength: 20, withPad: " ", startingAt: 0) + shape + mark)
        }
    }
}
