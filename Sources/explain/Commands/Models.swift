import ArgumentParser
import CAMKit
import Foundation

/// Lists the catalog: built-in models and those of a zoo file.
struct Models: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the models (built-in and from --zoo), whether their weights are present, and how to get them.",
        discussion: "Built-in weights are fetched by `\(ModelZoo.fetchCommand)` into \(ModelZoo.modelsDirectory.path) (or $CAMKIT_MODELS).")

    @OptionGroup var catalog: CatalogOption

    func run() throws {
        for model in try catalog.catalog().descriptors {
            print("""
                \(model.name)
                  architecture   \(model.architecture)
                  classes        \(model.classes): \(model.summary)
                  default layer  \(model.defaultLayer)
                  weights        \(model.weightsURL.path) (\(model.weightsArePresent ? "present" : "missing: \(model.fetchHint)"))
                  licence        \(model.licence)
                """)
        }
    }
}
