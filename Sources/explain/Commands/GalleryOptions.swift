import ArgumentParser
import CAMKit
import Foundation

/// What `explain gallery` explains with: the models and the CAM settings.
struct GalleryOptions: ParsableArguments {
    @Option(help: "Models: 'all' or comma-separated names (see `explain zoo`).")
    var models = "all"

    @Option(help: ArgumentHelp("A zoo file (JSON) of your own models, added to the built-in ones.", valueName: "file"))
    var zoo: String?

    @Option(help: "CAM method: \(CAMMethodName.allCases.map(\.rawValue).joined(separator: ", ")).")
    var method = "gradcam"

    @Option(help: "Target layer (default: each model's own; `explain zoo MODEL` lists them).")
    var layer: String?

    @Option(help: "Class to explain: top1, a class index, a label, or A-vs-B.")
    var target = "top1"

    func explainOptions() throws -> ExplainOptions {
        let options = ExplainOptions(method: try CAMMethodName(parsing: method), layer: layer, target: try TargetSpec(parsing: target))
        try options.validate()
        return options
    }

    /// Loads the selected models (once); models without weights are named on stderr and left out.
    func loadModels() throws -> [ExplainableModel] {
        let catalog = try ModelCatalog(zooFile: try zoo.map { try ZooFile(contentsOf: URL(fileURLWithPath: $0)) })
        let (available, missing) = try catalog.select(models)
        for model in missing {
            FileHandle.standardError.write(Data("note: skipping \(model.name): no weights at \(model.weightsURL.path); fetch them with `\(model.fetchHint)`\n".utf8))
        }
        guard !available.isEmpty else {
            throw ValidationError("none of the selected models has its weights; fetch them with `\(missing.first?.fetchHint ?? ModelZoo.fetchCommand)`")
        }
        return try available.map { try $0.load() }
    }
}
